rockspec_format = "3.0"
package = "stotp"
version = "scm-1"
source = {
  url = "git+https://example.invalid/stotp.git",
}
description = {
  summary = "Provision STM32F2/F4/F7 OTP memory through ST-Link probes",
  detailed = [[
stotp.core speaks the ST-Link protocol over libusb-1.0 and holds the OTP
primitives (feasibility check, program, verify, lock); stotp.* Lua modules
compose provisioning recipes. Ships a virtual probe for testing.
]],
  license = "MIT",
}
-- PostgreSQL journals (postgresql://...) also need luasql-postgres, which
-- is optional: install it where a journal is shared between stations.
dependencies = {
  "lua >= 5.4, < 5.5",
  "luasql-sqlite3",
  "luaossl",
  "argparse",
  "dkjson",
}
external_dependencies = {
  LIBUSB = {
    header = "libusb-1.0/libusb.h",
    library = "usb-1.0",
  },
}
build = {
  type = "make",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA = "$(LUA)",
  },
  install_variables = {
    PREFIX = "$(PREFIX)",
    LMOD_DIR = "$(LUADIR)",
    CMOD_DIR = "$(LIBDIR)",
    BIN_DIR = "$(BINDIR)",
  },
}
test = {
  type = "busted",
}
