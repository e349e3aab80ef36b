-- The --json contract (issue 7 item 12): stdout is exactly one line, one
-- JSON object and nothing after it. Returns the decoded object.
local dkjson = require("dkjson")
local assert = require("luassert")

return function(out)
  assert.equal(1, select(2, out:gsub("\n", "")), out)
  local r, pos = dkjson.decode(out)
  assert.equal(#out, pos, out)
  assert.equal("table", type(r), out)
  return r
end
