namespace DatasetQuant.Coordinator.Commands;

/// <summary>What dq-coordinator's exit code means. Scripts and systemd look at these.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command line was wrong (System.CommandLine reports parse errors with 1 as well).</summary>
    public const int Usage = 1;

    /// <summary>A file, key, database or broker the command needed could not be used; the message says which.</summary>
    public const int Failed = 2;

    /// <summary>Stopped by Ctrl+C or SIGTERM before finishing.</summary>
    public const int Interrupted = 130;
}
