-- The one version string of stotp: `stotp --version`, stotp._VERSION and
-- the tool_version the journal records all read it from here.
return "stotp 0.1.0"
