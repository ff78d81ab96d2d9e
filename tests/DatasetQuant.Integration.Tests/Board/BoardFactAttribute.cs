namespace DatasetQuant.Integration.Tests.Board;

/// <summary>A test of the arm64 builds: skipped, with the reason, where they cannot run, except under the Test target.</summary>
public sealed class BoardFactAttribute : FactAttribute
{
    public BoardFactAttribute() => Skip = ArmEmulation.SkipReason;
}

/// <summary>A board test run once per board: skipped like <see cref="BoardFactAttribute"/>.</summary>
public sealed class BoardTheoryAttribute : TheoryAttribute
{
    public BoardTheoryAttribute() => Skip = ArmEmulation.SkipReason;
}
