using System.Text;
using BenchmarkDotNet.Attributes;
using MiniRedis.Data;

namespace MiniRedis.Benchmarks;

/// <summary>
/// The keyspace side of GET and SET, as the executor runs them (lookup, write, the used_memory settle
/// after each command), over 100k keys of 16 bytes with 16-byte values. GET and a same-length SET must
/// allocate nothing; adding a key allocates exactly what a key costs on the heap (its entry object and
/// the one array holding key and value), which the Allocated column shows.
/// </summary>
[MemoryDiagnoser]
public class KeyspaceBenchmarks
{
    const int Keys = 100_000;

    readonly Keyspace _keyspace = new(1);
    readonly byte[][] _keys = new byte[Keys][];
    readonly byte[] _value = Encoding.ASCII.GetBytes("v000000000000016");
    readonly byte[] _newKey = Encoding.ASCII.GetBytes("key:new000000000");
    int _next;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < Keys; i++)
        {
            _keys[i] = Encoding.ASCII.GetBytes($"key:{i:D12}");
            _keyspace[0].SetString(_keys[i], _value);
        }
        _keyspace.Settle();
    }

    byte[] NextKey() => _keys[_next = (_next + 7919) % Keys];

    [Benchmark]
    public int Get()
    {
        int length = _keyspace[0].Lookup(NextKey())!.StringValue.Length;
        _keyspace.Settle();
        return length;
    }

    [Benchmark]
    public KeyEntry SetExisting()
    {
        var entry = _keyspace[0].SetString(NextKey(), _value);
        _keyspace.Settle();
        return entry;
    }

    /// <summary>SET of a new key, then DEL: the allocation is one key's heap cost.</summary>
    [Benchmark]
    public void AddAndDelete()
    {
        var db = _keyspace[0];
        db.SetString(_newKey, _value);
        _keyspace.Settle();
        db.Delete(db.Lookup(_newKey)!);
        _keyspace.Settle();
    }
}
