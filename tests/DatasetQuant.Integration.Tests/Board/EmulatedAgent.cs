using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Board;

/// <summary>The packaged arm64 dq-agent under qemu-user as one board, started as systemd would (NOTIFY_SOCKET).</summary>
public sealed class EmulatedAgent : ChildProcess
{
    private EmulatedAgent(ArmBoard board, (string Program, string[] Args) command, string notifySocket)
        : base($"dq-agent on emulated {board}", command.Program, command.Args, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifySocket })
    {
        Board = board;
    }

    public ArmBoard Board { get; }

    public static EmulatedAgent Start(ArmBoard board, string agentBinary, string notifySocket, IEnumerable<string> args) =>
        new(board, ArmEmulation.Command(board, agentBinary, args), notifySocket);

    /// <summary>
    /// Threads of the emulated program. qemu-user runs each guest thread on a host thread of its own and adds one
    /// of its own (RCU), so the guest's count is the process's tasks less one.
    /// </summary>
    public int GuestThreads => Directory.GetDirectories($"/proc/{Id}/task").Length - 1;
}
