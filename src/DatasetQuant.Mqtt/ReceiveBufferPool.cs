using System.Buffers;
using System.Numerics;

namespace DatasetQuant.Mqtt;

/// <summary>
/// The arrays received payloads are copied into: a pool that keeps at most <see cref="MaxRetainedBytes"/> of returned
/// arrays for reuse and gives all of them up on <see cref="Trim"/>.
/// </summary>
/// <remarks>
/// <see cref="ArrayPool{T}.Shared"/> would keep up to 32 arrays per core and size (a 128 KiB chunk frame takes a 256 KiB
/// array: 32 MiB on a four-core board after a push the device fell behind on) and lets them go only when a gen-2
/// collection finds them unused for a minute, which an idle agent may not run for hours. A device needs a few buffers
/// while it keeps up with a broadcast; when it falls behind, the extra ones are rented fresh and, on return, dropped to
/// the GC instead of kept. dq-agent empties the pool when it turns idle, before it collects.
/// </remarks>
public sealed class ReceiveBufferPool : ArrayPool<byte>
{
    /// <summary>Smallest array handed out (and kept): small JSON messages share one size.</summary>
    public const int MinimumArrayLength = 256;

    /// <summary>Largest array kept for reuse; larger payloads get an array of their own that is never pooled.</summary>
    public const int MaximumPooledArrayLength = 1 << 20;

    private readonly Stack<byte[]>[] _buckets;
    private readonly Lock _lock = new();
    private long _retainedBytes;

    public ReceiveBufferPool(long maxRetainedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBytes);
        MaxRetainedBytes = maxRetainedBytes;
        _buckets = new Stack<byte[]>[BucketOf(MaximumPooledArrayLength) + 1];
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new Stack<byte[]>();
        }
    }

    /// <summary>The pool MQTT sessions use unless their options name another: 2 MiB, eight 256 KiB chunk buffers.</summary>
    public static new ReceiveBufferPool Shared { get; } = new(2L << 20);

    public long MaxRetainedBytes { get; }

    /// <summary>Bytes of returned arrays waiting to be rented again.</summary>
    public long RetainedBytes => Volatile.Read(ref _retainedBytes);

    public override byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        if (minimumLength > MaximumPooledArrayLength)
        {
            return GC.AllocateUninitializedArray<byte>(minimumLength);
        }

        var bucket = BucketOf(minimumLength);
        lock (_lock)
        {
            if (_buckets[bucket].TryPop(out var array))
            {
                _retainedBytes -= array.Length;
                return array;
            }
        }

        return GC.AllocateUninitializedArray<byte>(LengthOf(bucket));
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        var length = array.Length;
        // Only arrays of a bucket's exact size are kept; anything else (an oversized payload's array) goes to the GC.
        if (length < MinimumArrayLength || length > MaximumPooledArrayLength || !BitOperations.IsPow2(length))
        {
            return;
        }

        if (clearArray)
        {
            Array.Clear(array);
        }

        lock (_lock)
        {
            if (_retainedBytes + length <= MaxRetainedBytes)
            {
                _buckets[BucketOf(length)].Push(array);
                _retainedBytes += length;
            }
        }
    }

    /// <summary>Drops every retained array; returns how many bytes they held.</summary>
    public long Trim()
    {
        lock (_lock)
        {
            foreach (var bucket in _buckets)
            {
                bucket.Clear();
            }

            var released = _retainedBytes;
            _retainedBytes = 0;
            return released;
        }
    }

    // Bucket b holds arrays of MinimumArrayLength << b bytes.
    private static int BucketOf(int length) =>
        BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, MinimumArrayLength))) - BitOperations.Log2(MinimumArrayLength);

    private static int LengthOf(int bucket) => MinimumArrayLength << bucket;
}
