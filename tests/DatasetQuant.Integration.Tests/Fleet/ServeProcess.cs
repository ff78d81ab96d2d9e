using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary><c>dq-coordinator serve</c> (dq-coordinator.dll beside the tests) as a child process.</summary>
public sealed class ServeProcess : ChildProcess
{
    private ServeProcess(string name, IEnumerable<string> args)
        : base(name, "dotnet", args)
    {
    }

    /// <summary>Starts <c>dq-coordinator serve</c> with <paramref name="args"/> after the word serve.</summary>
    public static ServeProcess Start(string name, params string[] args) =>
        new(name, [Path.Combine(AppContext.BaseDirectory, "dq-coordinator.dll"), "serve", .. args]);
}
