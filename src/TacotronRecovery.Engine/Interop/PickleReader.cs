using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace TacotronRecovery.Engine.Interop;

/// <summary>A Python global (<c>module.name</c>) met in a pickle: a class or a function.</summary>
internal sealed record PyGlobal(string Module, string Name)
{
    public string FullName => Module + "." + Name;
}

/// <summary>An object of a class this reader does not model (kept so that unrelated entries do not fail the load).</summary>
internal sealed class PyObject(PyGlobal type, object?[] args)
{
    public PyGlobal Type { get; } = type;
    public object?[] Args { get; } = args;
    public object? State { get; set; }
}

/// <summary>A Python dict (or OrderedDict) that keeps insertion order, as PyTorch state dicts rely on it.</summary>
internal sealed class PyDict
{
    private readonly Dictionary<object, object?> _map = new();
    private readonly List<object> _order = new();

    public void Set(object key, object? value)
    {
        if (!_map.ContainsKey(key)) _order.Add(key);
        _map[key] = value;
    }

    public bool TryGet(object key, out object? value) => _map.TryGetValue(key, out value);
    public object? Get(object key) => _map.TryGetValue(key, out var v) ? v : null;
    public bool ContainsKey(object key) => _map.ContainsKey(key);
    public int Count => _order.Count;
    public IEnumerable<object> Keys => _order;
    public IEnumerable<KeyValuePair<object, object?>> Items => _order.Select(k => new KeyValuePair<object, object?>(k, _map[k]));
}

/// <summary>The tuple a pickle's persistent id carried (PyTorch: storage references).</summary>
internal delegate object PersistentLoader(object? pid);

/// <summary>Thrown for a pickle stream this reader cannot interpret.</summary>
internal sealed class PickleException(string message) : Exception(message);

/// <summary>
/// A small, safe pickle interpreter (protocols 0–5 as far as PyTorch checkpoints use them). It never imports or runs
/// anything: globals become <see cref="PyGlobal"/> markers and calls are resolved only through the <c>reduce</c>
/// callback (tensors, OrderedDict); anything else becomes an inert <see cref="PyObject"/>. Ints are long (or BigInteger
/// when they do not fit), floats double, str string, bytes byte[], tuples object?[], lists List&lt;object?&gt;,
/// dicts <see cref="PyDict"/>.
/// </summary>
internal sealed class PickleReader
{
    private static readonly object Mark = new();
    private readonly Stream _s;
    private readonly PersistentLoader _persistent;
    private readonly Func<PyGlobal, object?[], object?> _reduce;
    private readonly Dictionary<long, object?> _memo = new();
    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new(); // stack heights at each MARK: linear, whatever the file does
    private readonly long _limit;
    private long _consumed;

    /// <param name="s">The pickle stream.</param>
    /// <param name="persistent">Resolves persistent ids (storages).</param>
    /// <param name="reduce">Resolves calls; null leaves an inert <see cref="PyObject"/>.</param>
    /// <param name="limit">
    /// The most bytes the stream can hold (a zip entry's size, a file's length). Every length in the pickle is checked
    /// against what is left of it before anything is allocated, so a declared 2 GB string in a small file fails at once.
    /// </param>
    public PickleReader(Stream s, PersistentLoader persistent, Func<PyGlobal, object?[], object?> reduce, long limit)
    {
        _s = s;
        _persistent = persistent;
        _reduce = reduce;
        _limit = limit;
    }

    /// <summary>Reads one pickle (up to its STOP opcode) and returns its value; the stream is left just after it.</summary>
    public object? Load()
    {
        _memo.Clear();
        _stack.Clear();
        _marks.Clear();
        while (true)
        {
            int op = _s.ReadByte();
            if (op < 0) throw new PickleException("the pickle ends before its STOP opcode (truncated file)");
            _consumed++;
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: ReadBytes(8); break; // FRAME
                case '.': return Pop(); // STOP
                case '(': _marks.Push(_stack.Count); break; // MARK
                case 'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 'K': Push((long)ReadByte()); break;
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break;
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: Push(ReadLong(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))))); break; // LONG4
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break;
                case 'I': Push(ParseIntLine(ReadLine())); break;
                case 'L': Push(ParseIntLine(ReadLine().TrimEnd('L'))); break;
                case 'F': Push(double.Parse(ReadLine(), System.Globalization.CultureInfo.InvariantCulture)); break;
                case 'X': Push(Encoding.UTF8.GetString(ReadBytes(ReadLength32()))); break; // BINUNICODE
                case 0x8c: Push(Encoding.UTF8.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(ReadBytes(ReadLength64()))); break; // BINUNICODE8
                case 'T': Push(Encoding.Latin1.GetString(ReadBytes(ReadLength32()))); break; // BINSTRING
                case 'U': Push(Encoding.Latin1.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
                case 'B': Push(ReadBytes(ReadLength32())); break; // BINBYTES
                case 'C': Push(ReadBytes(ReadByte())); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadBytes(ReadLength64())); break; // BINBYTES8
                case 0x96: Push(ReadBytes(ReadLength64())); break; // BYTEARRAY8
                case '}': Push(new PyDict()); break;
                case ']': Push(new List<object?>()); break;
                case ')': Push(Array.Empty<object?>()); break;
                case 0x8f: Push(new List<object?>()); break; // EMPTY_SET (as a list)
                case 't': Push(PopMark().ToArray()); break;
                case 'l': Push(PopMark()); break; // LIST
                case 'd': Push(ToDict(PopMark())); break; // DICT
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case 's': { var v = Pop(); var k = Pop(); AsDict(Peek()).Set(Key(k), v); break; }
                case 'u': { var items = PopMark(); var d = AsDict(Peek()); for (int i = 0; i + 1 < items.Count; i += 2) d.Set(Key(items[i]), items[i + 1]); break; }
                case 'a': { var v = Pop(); AsList(Peek()).Add(v); break; }
                case 'e': case 0x90: { var items = PopMark(); AsList(Peek()).AddRange(items); break; } // APPENDS, ADDITEMS
                case 0x91: Push(PopMark()); break; // FROZENSET
                case 'p': _memo[ParseIntLine(ReadLine()) is long pl ? pl : 0] = Peek(); break; // PUT
                case 'q': _memo[ReadByte()] = Peek(); break; // BINPUT
                case 'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case 'g': Push(Memo(ParseIntLine(ReadLine()) is long gl ? gl : -1)); break; // GET
                case 'h': Push(Memo(ReadByte())); break; // BINGET
                case 'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case 'c': { var module = ReadLine(); var name = ReadLine(); Push(new PyGlobal(module, name)); break; } // GLOBAL
                case 0x93: { var name = Pop() as string; var module = Pop() as string; Push(new PyGlobal(module ?? "?", name ?? "?")); break; } // STACK_GLOBAL
                case 'R': { var args = Pop() as object?[] ?? Array.Empty<object?>(); var f = Pop(); Push(Call(f, args)); break; } // REDUCE
                case 0x81: { var args = Pop() as object?[] ?? Array.Empty<object?>(); var cls = Pop(); Push(Call(cls, args)); break; } // NEWOBJ
                case 0x92: { Pop(); var args = Pop() as object?[] ?? Array.Empty<object?>(); var cls = Pop(); Push(Call(cls, args)); break; } // NEWOBJ_EX
                case 'b': { var state = Pop(); if (Peek() is PyObject o) o.State = state; break; } // BUILD (dict _metadata etc. ignored)
                case 'Q': Push(_persistent(Pop())); break; // BINPERSID
                case 'P': Push(_persistent(ReadLine())); break; // PERSID
                case '0': Pop(); break; // POP
                case '1': PopMark(); break; // POP_MARK
                case '2': Push(Peek()); break; // DUP
                default:
                    throw new PickleException($"unsupported pickle opcode 0x{op:x2} at byte {_consumed - 1} of the pickle");
            }
        }
    }

    private object? Call(object? callable, object?[] args)
    {
        if (callable is not PyGlobal g) throw new PickleException("a pickle call target is not a global");
        return _reduce(g, args) ?? new PyObject(g, args);
    }

    private static object Key(object? k) => k switch
    {
        null => "None",
        object?[] tuple => string.Join(",", tuple.Select(x => x?.ToString() ?? "None")),
        _ => k,
    };

    private static PyDict ToDict(List<object?> items)
    {
        var d = new PyDict();
        for (int i = 0; i + 1 < items.Count; i += 2) d.Set(Key(items[i]), items[i + 1]);
        return d;
    }

    private static PyDict AsDict(object? o) => o switch
    {
        PyDict d => d,
        PyObject p when p.State is PyDict s => s,
        PyObject p => (PyDict)(p.State = new PyDict()),
        _ => throw new PickleException("SETITEM on a value that is not a dict"),
    };

    private static List<object?> AsList(object? o) => o as List<object?> ?? throw new PickleException("APPEND on a value that is not a list");

    private object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw new PickleException($"pickle memo key {key} is missing");

    private void Push(object? o) => _stack.Add(o);

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw new PickleException("pickle stack underflow");

    private object? Pop()
    {
        if (_stack.Count == 0) throw new PickleException("pickle stack underflow");
        var o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return o;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw new PickleException("pickle MARK missing");
        var at = _marks.Pop();
        if (at > _stack.Count) throw new PickleException("pickle stack underflow below a MARK");
        var items = _stack.GetRange(at, _stack.Count - at);
        _stack.RemoveRange(at, _stack.Count - at);
        return items;
    }

    private int ReadByte()
    {
        int b = _s.ReadByte();
        if (b < 0) throw new PickleException("the pickle ends early (truncated file)");
        _consumed++;
        return b;
    }

    private byte[] ReadBytes(int n)
    {
        if (n < 0) throw new PickleException("negative length in pickle");
        if (n > _limit - _consumed || (_s.CanSeek && n > _s.Length - _s.Position))
            throw new PickleException($"a pickle item of {n:N0} bytes runs past the end of the data ({Math.Max(0, _limit - _consumed):N0} bytes left; truncated or damaged)");
        var buffer = new byte[n];
        _s.ReadExactly(buffer);
        _consumed += n;
        return buffer;
    }

    private int ReadLength32()
    {
        uint n = BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));
        return n <= int.MaxValue ? (int)n : throw new PickleException("pickle item too large");
    }

    private int ReadLength64()
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));
        return n <= int.MaxValue ? (int)n : throw new PickleException("pickle item too large");
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = ReadByte();
            if (b == '\n') return sb.ToString();
            sb.Append((char)b);
            if (sb.Length > 4096) throw new PickleException("pickle text line too long");
        }
    }

    private static object ParseIntLine(string s) => s switch
    {
        "00" => false,
        "01" => true,
        _ => long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : BigInteger.Parse(s, System.Globalization.CultureInfo.InvariantCulture),
    };

    private object ReadLong(int n)
    {
        if (n == 0) return 0L;
        var bytes = ReadBytes(n);
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }
}
