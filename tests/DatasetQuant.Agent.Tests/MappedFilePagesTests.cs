using DatasetQuant.Agent.Memory;

namespace DatasetQuant.Agent.Tests;

/// <summary>
/// Runs with the trimmer's tests, alone: releasing the test host's code makes every thread map it back, which would
/// blur the timing of tests running beside it.
/// </summary>
[Collection(nameof(IdleMemoryTrimmerTests))]
public sealed class MappedFilePagesTests
{
    private const string Smaps = """
        5577f2425000-5577f2433000 r--p 00000000 fe:00 11731066                   /opt/dq/dq-agent
        Size:                 56 kB
        Rss:                  56 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me dw sd
        5577f2433000-5577f27a9000 r-xp 0000e000 fe:00 11731066                   /opt/dq/dq-agent
        Rss:                3544 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me dw sd
        5577f2a9b000-5577f2aae000 rw-p 00675000 fe:00 11731066                   /opt/dq/dq-agent
        Rss:                  76 kB
        Anonymous:            48 kB
        VmFlags: rd wr mr mw me dw ac sd
        5577f2aae000-5577f2c5b000 rw-p 00000000 00:00 0
        Rss:                1688 kB
        Anonymous:          1688 kB
        VmFlags: rd wr mr mw me ac sd
        7f15e82c5000-7f15e8544000 r-xp 000c5000 fe:00 8888332                    /usr/lib/x86_64-linux-gnu/libcrypto.so.3
        Rss:                2300 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me sd
        7f15e8622000-7f15e8684000 r--p 00421000 fe:00 8888332                    /usr/lib/x86_64-linux-gnu/libcrypto.so.3
        Rss:                 392 kB
        Anonymous:           392 kB
        VmFlags: rd mr mw me ac sd
        7f15e9000000-7f15e9100000 r--p 00000000 fe:00 4242                       /var/lib/dq-agent/datasets/fmnist/a.dqs
        Rss:                 512 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me sd
        7f15ea000000-7f15ea010000 r-xp 00000000 fe:00 4243                       /usr/lib/libold.so.1 (deleted)
        Rss:                  64 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me sd
        7f15eb000000-7f15eb010000 r-xp 00000000 fe:00 4244                       /usr/lib/liblocked.so.1
        Rss:                  64 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me lo sd
        7f15ec000000-7f15ec010000 r-xp 00000000 fe:00 4245                       /opt/my libs/libspaced.so
        Rss:                  16 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me sd
        7f15ed000000-7f15ed010000 r-xp 00000000 fe:00 4246                       /usr/lib/libcold.so.2
        Rss:                   0 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me sd
        7ffd4a7fe000-7ffd4a800000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   4 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me de sd
        """;

    [Fact]
    public void Only_unwritten_read_only_mappings_of_the_binary_and_its_libraries_are_released()
    {
        var ranges = MappedFilePages.FindReleasable(new StringReader(Smaps), "/opt/dq/dq-agent");

        Assert.Equal(
            [
                (0x5577f2425000UL, 0x5577f2433000UL, 56L, "/opt/dq/dq-agent"),
                (0x5577f2433000UL, 0x5577f27a9000UL, 3544L, "/opt/dq/dq-agent"),
                (0x7f15e82c5000UL, 0x7f15e8544000UL, 2300L, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"),
                (0x7f15ec000000UL, 0x7f15ec010000UL, 16L, "/opt/my libs/libspaced.so"),
            ],
            ranges.Select(r => (r.Start, r.End, r.ResidentKiB, r.Path)));
    }

    [Fact]
    public void Releasing_this_process_s_pages_leaves_it_running()
    {
        var released = MappedFilePages.Unmap();

        Assert.True(released > 0, "nothing was released from a process that maps libc and its own host");

        // The released code maps back on use: this test host keeps running through libc, the runtime and the JIT.
        Assert.True(Environment.WorkingSet > 0);
        Assert.Equal("released", string.Join("", new[] { "re", "leased" }.Select(s => s.ToString())));
    }
}
