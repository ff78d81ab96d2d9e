using System.Runtime.Versioning;

// The tests start Debian's mosquitto and mint certificates with openssl: Linux only.
[assembly: SupportedOSPlatform("linux")]
