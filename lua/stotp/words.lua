-- stotp.words: "did you mean" for a misspelt word (a subcommand, a recipe
-- setting or vocabulary word, a journal state), by edit distance.
local M = {}

-- Edit distance with transpositions (optimal string alignment): "u32el"
-- is one edit from "u32le", as a typist sees it.
local function distance(a, b)
  local rows = { [0] = {} }
  for j = 0, #b do rows[0][j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    rows[i] = cur
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(rows[i - 1][j] + 1, cur[j - 1] + 1, rows[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        cur[j] = math.min(cur[j], rows[i - 2][j - 2] + 1)
      end
    end
  end
  return rows[#a][#b]
end

--- The word of `choices` (a list, or the keys of a table) closest to
--- `word`, within a third of its length (at least 1 edit), or nil.
function M.nearest(word, choices)
  if type(word) ~= "string" then return nil end
  local list = choices
  if choices[1] == nil then
    list = {}
    for k in pairs(choices) do if type(k) == "string" then list[#list + 1] = k end end
    table.sort(list)
  end
  local best, bestd
  for _, c in ipairs(list) do
    local d = distance(word, c)
    if d <= math.max(1, #word // 3) and (not bestd or d < bestd) then best, bestd = c, d end
  end
  return best
end

--- " (did you mean 'x'?)", or "" when nothing is near.
function M.hint(word, choices)
  local near = M.nearest(word, choices)
  return near and " (did you mean '" .. near .. "'?)" or ""
end

return M
