-- Malformed board.cfg files, one row each: what is wrong, the config's
-- text (the 4-line header + body; the body starts at line 5), and the
-- message the loader must give, naming file (written as "bad.cfg"), line
-- and field. Shared by recipe_spec (messages) and provision_spec (exit 2,
-- no probe opened, nothing written). `key` is the content of keys/k.key.

local M = {}

M.HEADER = 'product = "t"\nparts = { "stm32f4" }\njournal = "t.db"\nserials = { first = 1, last = 99 }\n'

M.rows = {
  { "a syntax error", 'block(0) {\n  field "a" { u8, 1 }\n', 'bad.cfg:7: \'}\' expected (to close \'{\' at line 5) near <eof>' },
  { "an unknown field type", 'block(0) {\n  field "a" { u24, 1 },\n}\n', "bad.cfg:6: 'u24' is not part of the recipe vocabulary" },
  { "two fields that overlap", 'block(0) {\n  field "a" { u32le, 1 },\n  field "b" { u8, 2, at = 2 },\n}\n',
    "bad.cfg:7: field 'b': overlaps field 'a' at byte 2 of block 0" },
  { "a value out of range", 'block(0) {\n  field "a" { u8, 300 },\n}\n',
    "bad.cfg:6: field 'a': value 300 out of range 0..255 for u8" },
  { "a serial pool too wide for its encoder", 'serials = { first = 1, last = 70000 }\nblock(0) {\n  field "s" { u16le, serial },\n}\n',
    "bad.cfg:7: field 's': serials up to 70000 do not fit: value 70000 out of range 0..65535 for u16le" },
  { "text too long for its field", 'block(0) {\n  field "m" { ascii(4), "MODEL" },\n}\n',
    "bad.cfg:6: field 'm': text of 5 characters is too long for ascii(4)" },
  { "a field past the end of a 32-byte block", 'block(0) {\n  field "a" { u32le, 1, at = 30 },\n}\n',
    "bad.cfg:6: field 'a': u32le at offset 30 does not fit in a 32-byte OTP block of stm32f4" },
  { "a 64-byte layout on F4 parts", 'block(0) {\n  field "a" { bytes(40), ("00"):rep(40) },\n}\n',
    "bad.cfg:6: field 'a': bytes(40) at offset 0 does not fit in a 32-byte OTP block of stm32f4" },
  { "a key file that is missing", 'block(1) {\n  field "k" { bytes(16), derived_key("keys/none.key", "dev") },\n}\n',
    "bad.cfg:6: field 'k': cannot read key file" },
  { "a key file of the wrong length", 'block(1) {\n  field "k" { bytes(16), derived_key("keys/k.key", "dev") },\n}\n',
    "bad.cfg:6: field 'k': key file", key = ("ab"):rep(16) .. "\n", also = "has the wrong length: 32 hex digits" },
  { "a key file that is not a key", 'block(1) {\n  field "k" { bytes(16), derived_key("keys/k.key", "dev") },\n}\n',
    "is neither 32 raw bytes nor 64 hex digits", key = "this is not a key at all\n" },
  { "a lock of a block not in the layout", 'block(0) {\n  field "a" { u8, 1 },\n}\nlock { 0, 3 }\n',
    "bad.cfg:8: lock: block 3 is not in the layout" },
  { "an os.execute attempt", 'os.execute("touch pwned")\nblock(0) { field "a" { u8, 1 } }\n',
    "bad.cfg:5: 'os' is not part of the recipe vocabulary" },
  { "an io.open attempt", 'local f = io.open("pwned", "w")\n', "bad.cfg:5: 'io' is not part of the recipe vocabulary" },
  { "a require attempt", 'local x = require("os")\n', "bad.cfg:5: 'require' is not part of the recipe vocabulary" },
  { "a load attempt", 'load("x = 1")()\n', "bad.cfg:5: 'load' is not part of the recipe vocabulary" },
  { "a loop that never ends", 'while true do end\n', "the config runs too long" },
  { "a CRC over an unknown field", 'block(0) {\n  field "a" { u8, 1 },\n  field "c" { crc32, over = { "a", "nope" } },\n}\n',
    "bad.cfg:7: field 'c': over names unknown field 'nope'" },
  { "a misspelt setting", 'prodcut = "x"\n', "bad.cfg:5: unknown setting 'prodcut'" },
  { "an unknown part", 'parts = { "stm32f1" }\nblock(0) { field "a" { u8, 1 } }\n', "bad.cfg:5: unknown part 'stm32f1'" },
  { "a block number past 15", 'block(16) { field "a" { u8, 1 } }\n', "bad.cfg:5: block number must be 0..15" },
  { "a field name used twice", 'block(0) { field "a" { u8, 1 } }\nblock(1) { field "a" { u8, 2 } }\n',
    "bad.cfg:6: field 'a': name already used at line 5" },
  { "a random key in an integer field", 'block(0) { field "k" { u32le, random_key } }\n',
    "bad.cfg:5: field 'k': random_key needs a bytes(n) encoder, not u32le" },
  { "a derived key longer than HMAC-SHA256 gives", 'parts = { "stm32f767" }\nblock(0) { field "k" { bytes(40), derived_key("keys/k.key", "x") } }\n',
    "bad.cfg:6: field 'k': derived_key gives at most 32 bytes, the field is bytes(40)" },
  { "bytes without a length", 'block(0) { field "b" { bytes, "00" } }\n',
    "bad.cfg:5: field 'b': this encoder needs its length, e.g. bytes(16)" },
  { "a MAC range that runs into the OUI", 'block(0) { field "m" { mac, from_serial("02:80:E1:FF:FF:F0") } }\n',
    "bad.cfg:5: field 'm': the serial pool runs past the 24-bit NIC part of MAC base 02:80:E1:FF:FF:F0" },
  { "a serial with no pool", 'serials = nil\n', "bad.cfg:5: serials must be a table" },
  { "no layout at all", '', "bad.cfg: the config defines no field" },
}

return M
