namespace DatasetQuant.Training.Compute;

/// <summary>
/// Work that <see cref="ComputePool"/> splits into <c>parts</c> disjoint pieces. Implementations are long-lived
/// objects holding their arguments in fields, so dispatching them allocates nothing (a lambda would capture).
/// </summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}
