using Xunit;

namespace DatasetQuant.Testing;

/// <summary>How reading one mutant ended: its error (null when it read), the bytes the reading thread allocated, whether it finished.</summary>
public readonly record struct MutantRead(Exception? Error, long AllocatedBytes, bool Finished);

/// <summary>
/// Reads mutants the way a consumer does and keeps what went wrong: an error of another type than the reader's own, one
/// that does not name the file and a field, a read that hangs or allocates past a bound, a value the spec forbids. The
/// test then fails once, listing each kind of failure with its count and its first mutant's edits, so that one run shows
/// every kind of defect.
/// </summary>
public sealed class MutantReads(string format)
{
    /// <summary>A read that takes this long hangs: a healthy one takes milliseconds even on a loaded machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Failures by kind (an error's type and where it was thrown, or the caller's words): a count and the first example.</summary>
    private readonly Dictionary<string, (int Count, string Example)> _failures = [];

    private int _failureCount;

    public int Read { get; private set; }

    public int Refused { get; private set; }

    /// <summary>
    /// Runs <paramref name="read"/> on a thread of its own (so that a hang is seen, and the allocation counted is its own).
    /// <paramref name="isOwnError"/> says whether an error is the reader's documented one and names the file and a field;
    /// <paramref name="maxAllocatedBytes"/> bounds what the read may allocate.
    /// </summary>
    public MutantRead Run(Mutant mutant, Action read, Func<Exception, bool> isOwnError, long maxAllocatedBytes)
    {
        var outcome = RunOnOwnThread(read);
        if (!outcome.Finished)
        {
            Fail(mutant, $"did not finish within {Timeout.TotalSeconds} s");
            return outcome;
        }

        if (outcome.Error is null)
        {
            Read++;
        }
        else if (isOwnError(outcome.Error))
        {
            Refused++;
        }
        else
        {
            var thrower = outcome.Error.StackTrace?.Split(Environment.NewLine).FirstOrDefault()?.Trim() ?? "?";
            Fail(mutant, $"{outcome.Error.GetType().Name}: {outcome.Error.Message} ({thrower})", $"{outcome.Error.GetType().Name} {thrower}");
        }

        if (outcome.AllocatedBytes > maxAllocatedBytes)
        {
            Fail(mutant, $"allocated {outcome.AllocatedBytes:N0} bytes (bound {maxAllocatedBytes:N0})");
        }

        return outcome;
    }

    /// <summary>
    /// Records a failure the caller found itself (a forbidden value, a wrong answer under an intact checksum); failures of
    /// one <paramref name="kind"/> (by default the words before the first digit) are counted and shown once.
    /// </summary>
    public void Fail(Mutant mutant, string what, string? kind = null)
    {
        kind ??= new string([.. what.TakeWhile(c => !char.IsDigit(c))]);
        _failureCount++;
        var example = $"{format} mutant {mutant.Number} ({mutant.Description}{(mutant.Resealed ? ", checksums recomputed" : string.Empty)}): {what}";
        _failures[kind] = _failures.TryGetValue(kind, out var seen) ? (seen.Count + 1, seen.Example) : (1, example);
    }

    /// <summary>
    /// Fails the test on any failure; also when fewer than <paramref name="least"/> mutants were read or refused, which
    /// would mean the mutations no longer reach what they should test.
    /// </summary>
    public void AssertClean(int least)
    {
        Assert.True(_failureCount == 0, $"{_failureCount} failures of {_failures.Count} kinds ({Read} read, {Refused} refused):{Environment.NewLine}"
            + string.Join(Environment.NewLine, _failures.Values.Select(f => $"[{f.Count}×] {f.Example}")));
        Assert.True(Read >= least && Refused >= least, $"{format}: {Read} mutants read and {Refused} refused; each should be at least {least}.");
    }

    private static MutantRead RunOnOwnThread(Action read)
    {
        Exception? error = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read();
            }
            catch (Exception ex)
            {
                error = ex;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        })
        {
            IsBackground = true,
            Name = "mutant read",
        };
        thread.Start();
        return thread.Join(Timeout) ? new MutantRead(error, allocated, true) : new MutantRead(null, 0, false);
    }
}
