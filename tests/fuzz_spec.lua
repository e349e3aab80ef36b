-- Bounded fuzzing (tests/fuzz/, README "Fuzzing"): a few seeded inputs of
-- each harness, so the suite notices a harness or a parser that broke.
-- `make fuzz` runs them at length (CI: FUZZ_RUNS=10000 per libFuzzer
-- target).
local testfiles = require("testfiles")

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

-- `lua5.4 tests/fuzz/NAME.lua RUNS 11 DIR`: its output, which must end in
-- `summary` (a Lua pattern) with no finding.
local function harness(name, runs, summary)
  local dir = testfiles.tmpdir("stotp-fuzzspec")
  local ok, out = run(("lua5.4 tests/fuzz/%s.lua %d 11 %s"):format(name, runs, dir))
  os.execute("rm -rf " .. testfiles.quote(dir))
  assert.is_true(ok, out)
  assert.truthy(out:find(summary), out)
end

describe("the recipe fuzz harness", function()
  it("gets a recipe or a message naming the file for every mutated and generated recipe", function()
    harness("recipe_fuzz", 60, "recipe_fuzz: 60 recipes tried %(%d+ loaded%), 0 distinct finding%(s%)")
  end)
end)

describe("the journal fuzz harness", function()
  it("reads journals with corrupted rows without a reader raising", function()
    harness("journal_fuzz", 20, "journal_fuzz: 20 corrupted journals read, 0 distinct finding%(s%)")
  end)
end)

-- The libFuzzer targets need clang's runtime: built by `make fuzz` only.
describe("the libFuzzer targets", function()
  for _, t in ipairs({ "image", "replies" }) do
    local bin = testfiles.root .. "/build-fuzz/fuzz_" .. t
    if not io.open(bin) then
      pending("fuzz_" .. t .. " is not built (make fuzz builds it with clang)")
    else
      it("run every input of tests/fuzz/corpus/" .. t .. " clean under ASan and UBSan", function()
        -- clang's ASan runtime is linked in: neither gcc's that `make check`
        -- preloads nor its sanitized drop-in libusb (LD_LIBRARY_PATH)
        local ok, out = run("env -u LD_PRELOAD -u LD_LIBRARY_PATH ASAN_OPTIONS=detect_leaks=0 " .. bin ..
          " -runs=0 tests/fuzz/corpus/" .. t)
        assert.is_true(ok, out)
        assert.truthy(out:find("Done %d+ runs") or out:find("INITED"), out)
      end)
    end
  end
end)
