namespace DatasetQuant.Integration.Tests.Board;

/// <summary>
/// A board as the emulator presents it: the CPU model qemu-user emulates (its instruction set: which NEON, LSE,
/// dot-product and FP16 features the .NET runtime and ONNX Runtime find) and the /proc/cpuinfo text the board's
/// kernel prints, which ONNX Runtime reads to pick its kernels. qemu 7.2 has no Cortex-A78AE; the A76 has the same
/// ARMv8.2 features ONNX Runtime and .NET look at (dotprod, fp16, LSE atomics, RCpc).
/// </summary>
public sealed record ArmBoard(string Name, string QemuCpu, string CpuInfoFile)
{
    public static ArmBoard RaspberryPi4 { get; } = new("rpi-4", "cortex-a72", "rpi-4.txt");

    public static ArmBoard JetsonOrinNano { get; } = new("jetson-orin-nano", "cortex-a76", "jetson-orin-nano.txt");

    public static TheoryData<string> Names => [RaspberryPi4.Name, JetsonOrinNano.Name];

    public static ArmBoard Named(string name) =>
        new[] { RaspberryPi4, JetsonOrinNano }.Single(b => b.Name == name);

    /// <summary>The cpuinfo text, copied beside the tests from Board/cpuinfo/.</summary>
    public string CpuInfoPath => Path.Combine(AppContext.BaseDirectory, "Board", "cpuinfo", CpuInfoFile);

    /// <summary>Cores the board has, counted in its cpuinfo.</summary>
    public int Cores => File.ReadLines(CpuInfoPath).Count(line => line.StartsWith("processor", StringComparison.Ordinal));

    public override string ToString() => Name;
}
