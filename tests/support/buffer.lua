-- An in-memory stream for in-process CLI specs: write/flush as a file,
-- read("l") returning the given lines one by one, then nil.
return function(lines)
  local b = { text = "" }
  function b:write(...) for _, s in ipairs({ ... }) do self.text = self.text .. s end return self end
  function b.flush() end
  function b.read() return table.remove(lines or {}, 1) end
  return b
end
