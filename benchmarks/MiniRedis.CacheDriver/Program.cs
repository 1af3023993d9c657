// The cache workload of issue 13 against one server (benchmarks/cache-compare.sh runs it on Redis and
// MiniRedis in turn): Zipf-distributed GETs over a key space, and a miss SETs a 500-byte value
// (cache-aside). Each connection is a thread that pipelines a batch of GETs, then the SETs of that batch's
// misses. The key sequence depends only on the seed, so both servers are asked the same keys in the same
// order. Prints one JSON line: hit ratio over the second half of the run, ops/s, the server's CPU time per
// operation and its RSS, its INFO memory/stats figures, and the driver's own CPU time (so a run where the
// driver, not the server, was the limit shows).
//
// Usage: dotnet MiniRedis.CacheDriver.dll <port> <server pid> [keys] [gets] [connections] [batch] [zipf s]
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using MiniRedis.CacheDriver;

var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var pid = int.Parse(args[1], CultureInfo.InvariantCulture);
int keys = Argument(2, 100_000), gets = Argument(3, 1_200_000), connections = Argument(4, 8), batch = Argument(5, 16);
double zipf = args.Length > 6 ? double.Parse(args[6], CultureInfo.InvariantCulture) : 0.99;

var workload = new Workload(keys, zipf);
var clients = new CacheClient[connections];
for (int i = 0; i < connections; i++) clients[i] = new CacheClient(port, workload, workload.Sequence(gets / connections, 1000 + i), batch);

var serverCpuBefore = ServerProcess.CpuTime(pid);
var driverCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
var clock = Stopwatch.StartNew();
var threads = clients.Select(c => new Thread(c.Run) { IsBackground = true }).ToArray();
foreach (var thread in threads) thread.Start();
foreach (var thread in threads) thread.Join();
double seconds = clock.Elapsed.TotalSeconds;
var serverCpu = ServerProcess.CpuTime(pid) - serverCpuBefore;
var driverCpu = Process.GetCurrentProcess().TotalProcessorTime - driverCpuBefore;
foreach (var client in clients) client.Dispose();

long hits = clients.Sum(c => c.Hits), misses = clients.Sum(c => c.Misses), sets = clients.Sum(c => c.Sets);
long lateHits = clients.Sum(c => c.LateHits), lateMisses = clients.Sum(c => c.LateMisses);
long ops = hits + misses + sets;
var info = Info.Read(port);
var json = new StringBuilder("{");
void Field(string name, object value) => json.Append(CultureInfo.InvariantCulture, $"{(json.Length > 1 ? ", " : "")}\"{name}\": {Convert.ToString(value, CultureInfo.InvariantCulture)}");
Field("hit_ratio", (double)lateHits / Math.Max(1, lateHits + lateMisses));
Field("hit_ratio_all", (double)hits / Math.Max(1, hits + misses));
Field("ops", ops);
Field("seconds", seconds);
Field("ops_per_sec", ops / seconds);
Field("server_cpu_us_per_op", serverCpu.TotalMicroseconds / ops);
Field("driver_cpu_us_per_op", driverCpu.TotalMicroseconds / ops);
Field("rss", ServerProcess.Status(pid, "VmRSS:"));
Field("rss_peak", ServerProcess.Status(pid, "VmHWM:"));
foreach (var name in (string[])["used_memory", "maxmemory", "evicted_keys", "dotnet_gc_heap_size", "dotnet_gc_committed", "dotnet_gc_fragmented",
             "dotnet_gc_gen0_collections", "dotnet_gc_gen1_collections", "dotnet_gc_gen2_collections", "dotnet_gc_heap_compactions", "dotnet_gc_pause_max_ms"])
{
    if (info.TryGetValue(name, out var value)) Field(name, value);
}
Field("keys", Info.DbSize(port));
Console.WriteLine(json.Append('}'));

int Argument(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

namespace MiniRedis.CacheDriver
{
    /// <summary>The key space and its Zipf distribution, with each key's RESP pieces built once.</summary>
    sealed class Workload
    {
        static readonly byte[] GetHeader = "*2\r\n$3\r\nGET\r\n"u8.ToArray();
        static readonly byte[] SetHeader = "*3\r\n$3\r\nSET\r\n"u8.ToArray();
        readonly double[] _cdf;
        readonly int[] _keyOfRank;
        readonly byte[][] _keyBulks;

        public Workload(int keys, double zipf)
        {
            _cdf = new double[keys];
            double total = 0;
            for (int rank = 1; rank <= keys; rank++) total += 1.0 / Math.Pow(rank, zipf);
            double sum = 0;
            for (int rank = 1; rank <= keys; rank++)
            {
                sum += 1.0 / Math.Pow(rank, zipf);
                _cdf[rank - 1] = sum / total;
            }
            // Ranks map to shuffled key ids, so the hot keys are not the first ones written.
            _keyOfRank = Enumerable.Range(0, keys).ToArray();
            new Random(12345).Shuffle(_keyOfRank);
            _keyBulks = new byte[keys][];
            for (int k = 0; k < keys; k++)
            {
                var name = $"key:{k}";
                _keyBulks[k] = Encoding.ASCII.GetBytes($"${name.Length}\r\n{name}\r\n");
            }
            Value = Encoding.ASCII.GetBytes($"$500\r\n{new string('x', 500)}\r\n");
        }

        /// <summary>The value's bulk string, 500 bytes.</summary>
        public byte[] Value { get; }

        /// <summary><paramref name="count"/> key ids drawn from the distribution with a seeded generator.</summary>
        public int[] Sequence(int count, int seed)
        {
            var random = new Random(seed);
            var sequence = new int[count];
            for (int i = 0; i < count; i++)
            {
                int rank = Array.BinarySearch(_cdf, random.NextDouble());
                if (rank < 0) rank = ~rank;
                sequence[i] = _keyOfRank[Math.Min(rank, _cdf.Length - 1)];
            }
            return sequence;
        }

        public int WriteGet(byte[] buffer, int at, int key) => Write(buffer, Write(buffer, at, GetHeader), _keyBulks[key]);

        public int WriteSet(byte[] buffer, int at, int key) => Write(buffer, Write(buffer, Write(buffer, at, SetHeader), _keyBulks[key]), Value);

        static int Write(byte[] buffer, int at, byte[] piece)
        {
            piece.CopyTo(buffer, at);
            return at + piece.Length;
        }
    }

    /// <summary>One connection's share of the run: batches of GETs, then SETs for the misses.</summary>
    sealed class CacheClient(int port, Workload workload, int[] sequence, int batch) : IDisposable
    {
        readonly Reader _reader = new(port);
        readonly byte[] _out = new byte[batch * 600];
        readonly int[] _missed = new int[batch];

        public long Hits, Misses, Sets, LateHits, LateMisses;

        public void Run()
        {
            for (int done = 0; done < sequence.Length;)
            {
                int n = Math.Min(batch, sequence.Length - done), length = 0, missed = 0;
                for (int i = 0; i < n; i++) length = workload.WriteGet(_out, length, sequence[done + i]);
                _reader.Send(_out, length);
                for (int i = 0; i < n; i++)
                {
                    if (!_reader.BulkHasData()) _missed[missed++] = sequence[done + i];
                }
                bool late = done >= sequence.Length / 2;
                Hits += n - missed;
                Misses += missed;
                if (late)
                {
                    LateHits += n - missed;
                    LateMisses += missed;
                }
                if (missed > 0)
                {
                    length = 0;
                    for (int i = 0; i < missed; i++) length = workload.WriteSet(_out, length, _missed[i]);
                    _reader.Send(_out, length);
                    for (int i = 0; i < missed; i++) _reader.Line();
                    Sets += missed;
                }
                done += n;
            }
        }

        public void Dispose() => _reader.Dispose();
    }

    /// <summary>A connection's replies, read through one buffer.</summary>
    sealed class Reader : IDisposable
    {
        readonly Socket _socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        readonly byte[] _buffer = new byte[256 * 1024];
        int _start, _end;

        public Reader(int port) => _socket.Connect("127.0.0.1", port);

        public void Send(byte[] data, int length) => _socket.Send(data.AsSpan(0, length));

        /// <summary>One reply's first line (without CRLF); an error reply ends the run.</summary>
        public ReadOnlySpan<byte> Line()
        {
            while (true)
            {
                int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (end >= 0)
                {
                    var line = _buffer.AsSpan(_start, end);
                    _start += end + 2;
                    if (line[0] == (byte)'-') throw new InvalidOperationException(Encoding.ASCII.GetString(line));
                    return line;
                }
                Fill();
            }
        }

        /// <summary>Reads a bulk reply: true when it has data, false for a null bulk.</summary>
        public bool BulkHasData()
        {
            var line = Line();
            if (line[0] != (byte)'$') throw new InvalidOperationException($"not a bulk reply: {Encoding.ASCII.GetString(line)}");
            int length = int.Parse(line[1..], CultureInfo.InvariantCulture);
            if (length < 0) return false;
            Skip(length + 2);
            return true;
        }

        /// <summary>A bulk reply's text.</summary>
        public string Bulk()
        {
            int length = int.Parse(Line()[1..], CultureInfo.InvariantCulture);
            var text = new StringBuilder();
            while (length > 0)
            {
                if (_start == _end) Fill();
                int take = Math.Min(length, _end - _start);
                text.Append(Encoding.ASCII.GetString(_buffer, _start, take));
                _start += take;
                length -= take;
            }
            Skip(2);
            return text.ToString();
        }

        void Skip(int count)
        {
            while (count > 0)
            {
                if (_start == _end) Fill();
                int take = Math.Min(count, _end - _start);
                _start += take;
                count -= take;
            }
        }

        void Fill()
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            int read = _socket.Receive(_buffer.AsSpan(_end));
            if (read == 0) throw new InvalidOperationException("the server closed the connection");
            _end += read;
        }

        public void Dispose() => _socket.Dispose();
    }

    /// <summary>The server's INFO fields and DBSIZE, read after the run.</summary>
    static class Info
    {
        public static Dictionary<string, string> Read(int port)
        {
            using var reader = new Reader(port);
            var fields = new Dictionary<string, string>();
            foreach (var section in (string[])["memory", "stats"])
            {
                var command = Encoding.ASCII.GetBytes($"*2\r\n$4\r\nINFO\r\n${section.Length}\r\n{section}\r\n");
                reader.Send(command, command.Length);
                foreach (var line in reader.Bulk().Split("\r\n"))
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0) fields[line[..colon]] = line[(colon + 1)..];
                }
            }
            return fields;
        }

        public static long DbSize(int port)
        {
            using var reader = new Reader(port);
            var command = "*1\r\n$6\r\nDBSIZE\r\n"u8.ToArray();
            reader.Send(command, command.Length);
            return long.Parse(reader.Line()[1..], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The measured server's figures from /proc.</summary>
    static class ServerProcess
    {
        /// <summary>Clock ticks per second of /proc/PID/stat's times (USER_HZ, 100 on Linux).</summary>
        const long TicksPerSecond = 100;

        /// <summary>User plus system CPU time so far.</summary>
        public static TimeSpan CpuTime(int pid)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds((double)ticks / TicksPerSecond);
        }

        /// <summary>A size field of /proc/PID/status (VmRSS: resident now, VmHWM: the peak), in bytes.</summary>
        public static long Status(int pid, string field)
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal)) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
            return 0;
        }
    }
}
