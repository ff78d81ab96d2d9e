using System.Runtime.Versioning;

// The client binds libmosquitto and the tests start Debian's mosquitto: Linux only.
[assembly: SupportedOSPlatform("linux")]
