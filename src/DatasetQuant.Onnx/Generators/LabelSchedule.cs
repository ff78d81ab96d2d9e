namespace DatasetQuant.Onnx.Generators;

/// <summary>
/// Which class each sample gets. Balanced: every run of C samples holds each class once, in a shuffled order.
/// Weighted: classes drawn independently with the given relative weights.
/// </summary>
internal sealed class LabelSchedule
{
    private readonly int[] _round;
    private readonly double[]? _cumulative;
    private int _next;

    public LabelSchedule(int classCount, IReadOnlyList<double>? weights)
    {
        _round = new int[classCount];
        _next = classCount;
        if (weights is null)
        {
            return;
        }

        if (weights.Count != classCount)
        {
            throw new ArgumentException($"{weights.Count} class weights given for {classCount} classes.", nameof(weights));
        }

        _cumulative = new double[classCount];
        double total = 0;
        for (var i = 0; i < classCount; i++)
        {
            if (!(weights[i] >= 0) || double.IsInfinity(weights[i]))
            {
                throw new ArgumentException($"Class weight {i} is {weights[i]}; weights must be finite and non-negative.", nameof(weights));
            }

            total += weights[i];
            _cumulative[i] = total;
        }

        if (total <= 0)
        {
            throw new ArgumentException("Class weights sum to zero.", nameof(weights));
        }
    }

    public int Next(ref DeterministicRandom random)
    {
        if (_cumulative is not null)
        {
            var u = random.NextDouble() * _cumulative[^1];
            // First class whose cumulative weight exceeds u; a zero-weight class can never be chosen.
            for (var i = 0; i < _cumulative.Length; i++)
            {
                if (u < _cumulative[i])
                {
                    return i;
                }
            }

            return Array.FindLastIndex(_cumulative, c => c > 0) is var last && last >= 0 ? last : 0;
        }

        if (_next == _round.Length)
        {
            for (var i = 0; i < _round.Length; i++)
            {
                _round[i] = i;
            }

            for (var i = _round.Length - 1; i > 0; i--)
            {
                var j = random.NextInt(i + 1);
                (_round[i], _round[j]) = (_round[j], _round[i]);
            }

            _next = 0;
        }

        return _round[_next++];
    }
}
