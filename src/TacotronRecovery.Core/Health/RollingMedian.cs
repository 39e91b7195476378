namespace TacotronRecovery.Core.Health;

/// <summary>
/// Median of the last <c>capacity</c> values: a ring buffer plus a sorted copy updated by binary search and one
/// block move, so each <see cref="Add"/> costs O(capacity) memory moves at worst — constant for a fixed window,
/// independent of how many values have streamed through.
/// </summary>
internal sealed class RollingMedian
{
    private readonly double[] _ring;
    private readonly double[] _sorted;
    private int _count, _next;

    public RollingMedian(int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Window must be at least 1.");
        _ring = new double[capacity];
        _sorted = new double[capacity];
    }

    public int Count => _count;

    public double Median => _count == 0 ? double.NaN
        : _count % 2 == 1 ? _sorted[_count / 2] : 0.5 * (_sorted[_count / 2 - 1] + _sorted[_count / 2]);

    public void Add(double value)
    {
        if (_count == _ring.Length)
        {
            double old = _ring[_next];
            int at = Array.BinarySearch(_sorted, 0, _count, old);
            Array.Copy(_sorted, at + 1, _sorted, at, _count - at - 1);
            _count--;
        }
        _ring[_next] = value;
        _next = (_next + 1) % _ring.Length;
        int pos = Array.BinarySearch(_sorted, 0, _count, value);
        if (pos < 0) pos = ~pos;
        Array.Copy(_sorted, pos, _sorted, pos + 1, _count - pos);
        _sorted[pos] = value;
        _count++;
    }
}
