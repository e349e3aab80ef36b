-- stotp.fields: every encoder's exact bytes, and its refusals.
local fields = require("stotp.fields")
local hex = function(s) return fields.tohex(s) end

describe("stotp.fields", function()
  describe("integer encoders", function()
    local rows = {
      { "u8", 0xAB, "AB" },
      { "u16le", 0x1234, "3412" }, { "u16be", 0x1234, "1234" },
      { "u32le", 0x53454E43, "434E4553" }, { "u32be", 0x53454E43, "53454E43" },
      { "u64le", 0x0102030405060708, "0807060504030201" }, { "u64be", 0x0102030405060708, "0102030405060708" },
      { "unixtime", 1700000000, "00F15365" },
    }
    for _, r in ipairs(rows) do
      it(string.format("encodes %s %#x as %s", r[1], r[2], r[3]), function()
        assert.equal(r[3], hex(assert(fields[r[1]]:encode(r[2]))))
      end)
    end

    local bad = {
      { "u8", 256, "value 256 out of range 0..255 for u8" },
      { "u8", -1, "value -1 out of range 0..255 for u8" },
      { "u16be", 65536, "value 65536 out of range 0..65535 for u16be" },
      { "u32le", 1.5, "expected an integer, got number" },
      { "u32le", "12", "expected an integer, got string" },
      { "u64le", -5, "value -5 out of range 0..9223372036854775807 for u64le" },
      { "unixtime", 0x100000000, "value 4294967296 out of range 0..4294967295 for u32le" },
    }
    for _, r in ipairs(bad) do
      it(string.format("refuses %s of %s", r[1], tostring(r[2])), function()
        assert.same({ nil, r[3] }, { fields[r[1]]:encode(r[2]) })
      end)
    end
  end)

  describe("ascii", function()
    it("pads with NUL by default and with the given pad", function()
      assert.equal("4B4E000000", hex(fields.ascii(5):encode("KN")))
      assert.equal("4B4E202020", hex(fields.ascii(5, " "):encode("KN")))
      assert.equal("4B4EFFFFFF", hex(fields.ascii(5, 0xFF):encode("KN")))
    end)
    it("refuses text longer than the field and non-printable text", function()
      assert.same({ nil, "text of 6 characters is too long for ascii(5)" }, { fields.ascii(5):encode("ABCDEF") })
      assert.same({ nil, "text must be printable ASCII" }, { fields.ascii(5):encode("A\nB") })
    end)
    it("raises for a bad length or pad (a config mistake)", function()
      assert.has_error(function() fields.ascii(0) end)
      assert.has_error(function() fields.ascii(65) end)
      assert.has_error(function() fields.ascii(4, "ab") end)
    end)
  end)

  describe("bytes", function()
    it("takes hex with separators and raw values", function()
      assert.equal("DEADBEEF", hex(fields.bytes(4):encode("de:ad be-ef")))
      assert.equal("01020304", hex(fields.bytes(4):encode(fields.raw("\1\2\3\4"))))
    end)
    local bad = {
      { "DEADBE", "3 bytes given, bytes(4) needs exactly 4" },
      { "DEADBEEF00", "5 bytes given, bytes(4) needs exactly 4" },
      { "DEADBEEG", 'not a hex string: "DEADBEEG"' },
      { "DEADBEE", "odd number of hex digits" },
      { 12, "expected a hex string" },
    }
    for _, r in ipairs(bad) do
      it("refuses " .. tostring(r[1]), function()
        assert.same({ nil, r[2] }, { fields.bytes(4):encode(r[1]) })
      end)
    end
  end)

  describe("bcd, mac, uuid", function()
    it("packs BCD most significant digit first, zero padded", function()
      assert.equal("00012345", hex(fields.bcd(4):encode(12345)))
      assert.equal("00000042", hex(fields.bcd(4):encode("42")))
      assert.same({ nil, "123456789 has 9 digits, bcd(4) holds 8" }, { fields.bcd(4):encode(123456789) })
      assert.same({ nil, "expected a non-negative integer or a string of decimal digits" }, { fields.bcd(2):encode("4a") })
    end)
    it("encodes a MAC in transmission order from text or integer", function()
      assert.equal("0280E1000001", hex(fields.mac:encode("02:80:E1:00:00:01")))
      assert.equal("0280E1000001", hex(fields.mac:encode("02-80-e1-00-00-01")))
      assert.equal("0280E1000001", hex(fields.mac:encode(0x0280E1000001)))
      assert.same({ nil, "MAC address needs 6 bytes: 02:80:E1:00:00" }, { fields.mac:encode("02:80:E1:00:00") })
      assert.same({ nil, "bad MAC address byte '0G' in 02:80:E1:00:00:0G" }, { fields.mac:encode("02:80:E1:00:00:0G") })
    end)
    it("encodes a UUID in RFC 4122 byte order", function()
      assert.equal("123E4567E89B12D3A456426614174000", hex(fields.uuid:encode("123e4567-e89b-12d3-a456-426614174000")))
      assert.is_nil((fields.uuid:encode("123e4567e89b12d3a456426614174000")))
    end)
  end)

  describe("CRCs", function()
    it("computes the catalogue check values", function()
      assert.equal(0x29B1, fields.crc16_ccitt_of("123456789"))
      assert.equal(0xCBF43926, fields.crc32_of("123456789"))
    end)
    it("stores CRCs little endian", function()
      assert.equal("B129", hex(fields.crc16_ccitt:encode("123456789")))
      assert.equal("2639F4CB", hex(fields.crc32:encode("123456789")))
    end)
  end)

  describe("decoders", function()
    local rows = {
      { "u8", 0xAB }, { "u16le", 0x1234 }, { "u16be", 0x1234 }, { "u32le", 0x53454E43 }, { "u32be", 7 },
      { "u64le", 0x0102030405060708 }, { "u64be", math.maxinteger }, { "unixtime", 1700000000 },
      { fields.ascii(6, " "), "KN-2" }, { fields.ascii(4), "" }, { fields.bytes(3), "DEADBE" }, { fields.bcd(4), 12345678 },
      { fields.bcd(3), 42 }, { "mac", "02:80:E1:00:00:01" },
      { "uuid", "6f1c1d2e-3b4a-4c5d-8e9f-a0b1c2d3e4f5" },
    }
    for _, r in ipairs(rows) do
      local enc = type(r[1]) == "string" and fields[r[1]] or r[1]
      it("gives back what " .. enc.name .. " encoded: " .. tostring(r[2]), function()
        assert.equal(r[2], enc:decode(assert(enc:encode(r[2]))))
      end)
    end

    it("reads bytes no encoder wrote as nil: ascii with a control byte, BCD with a nibble above 9", function()
      assert.is_nil(fields.ascii(4):decode("AB\1\0"))
      assert.is_nil(fields.bcd(2):decode("\x1A\x00"))
    end)

    it("reads a CRC back as its number", function()
      assert.equal(0xCBF43926, fields.crc32:decode(fields.crc32:encode("123456789")))
      assert.equal(0x29B1, fields.crc16_ccitt:decode(fields.crc16_ccitt:encode("123456789")))
    end)
  end)
end)
