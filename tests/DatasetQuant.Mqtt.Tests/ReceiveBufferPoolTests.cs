namespace DatasetQuant.Mqtt.Tests;

public sealed class ReceiveBufferPoolTests
{
    [Fact]
    public void A_returned_array_is_rented_again_for_any_size_of_its_bucket()
    {
        var pool = new ReceiveBufferPool(1 << 20);
        var frame = pool.Rent(131_112); // a 128 KiB chunk and its frame header

        Assert.Equal(256 * 1024, frame.Length);
        pool.Return(frame);
        Assert.Equal(frame.Length, pool.RetainedBytes);
        Assert.Same(frame, pool.Rent(140_000));
        Assert.Equal(0, pool.RetainedBytes);
        Assert.Equal(ReceiveBufferPool.MinimumArrayLength, pool.Rent(3).Length);
    }

    [Fact]
    public void Retained_bytes_never_exceed_the_bound_and_the_rest_goes_to_the_collector()
    {
        var pool = new ReceiveBufferPool(1 << 20); // four 256 KiB arrays
        var rented = Enumerable.Range(0, 10).Select(_ => pool.Rent(200_000)).ToList();
        foreach (var array in rented)
        {
            pool.Return(array);
        }

        Assert.Equal(1 << 20, pool.RetainedBytes);
        var again = Enumerable.Range(0, 10).Select(_ => pool.Rent(200_000)).ToList();
        Assert.Equal(4, again.Count(a => rented.Contains(a)));
    }

    [Fact]
    public void Trim_gives_up_every_retained_array()
    {
        var pool = new ReceiveBufferPool(1 << 20);
        var small = pool.Rent(100);
        var large = pool.Rent(100_000);
        pool.Return(small);
        pool.Return(large);

        Assert.Equal(small.Length + large.Length, pool.Trim());
        Assert.Equal(0, pool.RetainedBytes);
        Assert.NotSame(large, pool.Rent(100_000));
    }

    [Fact]
    public void Oversized_and_foreign_arrays_are_never_kept()
    {
        var pool = new ReceiveBufferPool(16 << 20);
        var huge = pool.Rent(ReceiveBufferPool.MaximumPooledArrayLength + 1);

        Assert.Equal(ReceiveBufferPool.MaximumPooledArrayLength + 1, huge.Length);
        pool.Return(huge);
        pool.Return(new byte[1000]); // not a bucket size
        Assert.Equal(0, pool.RetainedBytes);
    }
}
