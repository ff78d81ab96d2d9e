using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Testing;

/// <summary>Collects formatted log lines from every logger it hands out, for assertions on what was logged.</summary>
public sealed class TestLog
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public ILogger<T> For<T>() => new Logger<T>(this);

    public bool Contains(string fragment) => _lines.Any(l => l.Contains(fragment, StringComparison.Ordinal));

    public int Count(string fragment) => _lines.Count(l => l.Contains(fragment, StringComparison.Ordinal));

    public string Dump() => string.Join(Environment.NewLine, _lines);

    private sealed class Logger<T>(TestLog log) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            log._lines.Enqueue($"{logLevel} {typeof(T).Name}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.Message)}");
        }
    }
}
