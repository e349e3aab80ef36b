-- luacheck: the Lua sources and the specs (lua-check, run by tests/lint_spec.lua)
std = "lua54"
max_line_length = 130
exclude_files = { "build/", "build-san/" }
files["tests/"] = { std = "+busted", max_line_length = 160 }
