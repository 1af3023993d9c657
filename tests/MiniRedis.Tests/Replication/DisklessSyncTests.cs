using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// A MiniRedis master's diskless full sync (repl-diskless-sync, Redis 7.0's default): replicas that
/// arrive during repl-diskless-sync-delay share one EOF-marked transfer streamed from the snapshot,
/// no dump file is written, real Redis 7.0.15 replicas load it, and the master reports it as real
/// Redis does (log lines, INFO persistence and replication while it runs).
/// </summary>
[Trait("Category", "Differential")]
public sealed class DisklessSyncTests
{
    [Fact]
    public void TwoRealReplicasShareOneTransferAndNoFileIsWritten()
    {
        // A long delay: the transfer starts because the second replica reached -max-replicas.
        using var master = new MiniRedisProcess("--repl-diskless-sync-delay", "600", "--repl-diskless-sync-max-replicas", "2");
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        using var first = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        master.WaitForOutput("Delay next BGSAVE for diskless SYNC");
        using var second = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, first);
        ReplicationChecks.WaitCaughtUp(master, second);

        // The replicas can be up before the master has noted the job's end.
        Assert.True(Wait.Until(() => Occurrences(master.Output, "Synchronization with replica 127.0.0.1:") == 2), master.Output);
        string log = master.Output;
        Assert.Equal(1, Occurrences(log, "Starting BGSAVE for SYNC with target: replicas sockets"));
        Assert.Equal(1, Occurrences(log, "Background RDB transfer started by pid"));
        Assert.Contains("Diskless rdb transfer, done reading from pipe, 2 replicas still up.", log);
        Assert.Contains("Background RDB transfer terminated with success", log);
        foreach (var replica in new[] { first, second })
        {
            Assert.Contains($"Streamed RDB transfer with replica 127.0.0.1:{replica.Port} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming", log);
            Assert.Contains($"Synchronization with replica 127.0.0.1:{replica.Port} succeeded", log);
            replica.WaitForOutput("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        }
        Assert.Empty(Directory.GetFiles(master.DataDirectory, "*.rdb"));
        using (var connection = master.Connect())
        {
            // A transfer is not a save.
            Assert.Equal(0, connection.InfoNumber("persistence", "rdb_saves"));
            Assert.Equal("ok", connection.InfoField("persistence", "rdb_last_bgsave_status"));
            ReplicationChecks.LiveWrites(connection);
        }
        ReplicationChecks.WaitCaughtUp(master, first);
        ReplicationChecks.WaitCaughtUp(master, second);
        var expected = ReplicationChecks.Dataset(master);
        Assert.Equal(expected, ReplicationChecks.Dataset(first));
        Assert.Equal(expected, ReplicationChecks.Dataset(second));
    }

    /// <summary>
    /// While a transfer runs (slowed by rdb-key-save-delay), the master and its replica show what
    /// real Redis's show: a background job in progress with its keys, the replica in wait_bgsave, and
    /// on the replica an EOF-marked sync of unknown size.
    /// </summary>
    [Fact]
    public void InfoDuringTheTransferMatchesRedis()
    {
        string[] fields =
        [
            "persistence:rdb_bgsave_in_progress", "persistence:rdb_saves", "persistence:rdb_last_bgsave_status",
            "persistence:current_save_keys_total", "replication:connected_slaves",
        ];
        string[] replicaFields = ["replication:master_link_status", "replication:master_sync_in_progress", "replication:master_sync_total_bytes"];
        (List<string?> Master, List<string?> Replica, string SlaveLine) Observe(ServerProcess master)
        {
            using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
            using var replica = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
            // Redis's child reads the delay at fork: it is set before the sync starts.
            Assert.True(Wait.Until(() => ReplicationChecks.InfoField(replica, "master_sync_in_progress") == "1"
                && ReplicationChecks.InfoField(master, "slave0") is not null
                && Field(master, "persistence:rdb_bgsave_in_progress") == "1"), master.Output);
            var slave = ReplicationChecks.InfoField(master, "slave0")!;
            return (fields.Select(f => Field(master, f)).ToList(), replicaFields.Select(f => Field(replica, f)).ToList(),
                slave[..slave.IndexOf(",offset=", StringComparison.Ordinal)].Replace(replica.Port.ToString(), "PORT", StringComparison.Ordinal));
        }
        using var real = new RealRedisProcess("--rdb-key-save-delay", "1000000");
        using var mini = new MiniRedisProcess("--rdb-key-save-delay", "1000000");
        var expected = Observe(real);
        var actual = Observe(mini);
        Assert.Equal(expected.Master, actual.Master);
        Assert.Equal(expected.Replica, actual.Replica);
        Assert.Equal(expected.SlaveLine, actual.SlaveLine);
        Assert.Equal("ip=127.0.0.1,port=PORT,state=wait_bgsave", actual.SlaveLine);
    }

    /// <summary>
    /// The payload as a replica that said "capa eof" receives it: +FULLRESYNC, then
    /// <c>$EOF:&lt;40 hex&gt;</c>, an RDB that redis-check-rdb accepts, and the same 40 bytes; one that did
    /// not say it gets a <c>$&lt;length&gt;</c> dump even with repl-diskless-sync yes.
    /// </summary>
    [Fact]
    public void EofMarkedPayloadOnlyForReplicasThatReadIt()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);

        using (var eof = new RawReplica(master.Port))
        {
            eof.Command("REPLCONF", "capa", "eof", "capa", "psync2");
            eof.Send("PSYNC", "?", "-1");
            Assert.StartsWith("+FULLRESYNC ", eof.Line());
            string header = eof.Line();
            Assert.Matches("^\\$EOF:[0-9a-f]{40}$", header);
            byte[] mark = Encoding.ASCII.GetBytes(header[5..]);
            byte[] payload = eof.ReadUntil(mark);
            Assert.Equal("REDIS0010"u8.ToArray(), payload[..9]);
            string file = Path.Combine(master.DataDirectory, "received.rdb");
            File.WriteAllBytes(file, payload);
            var (exitCode, output) = Persistence.Rdb.RdbInteropTests.CheckRdb(file);
            Assert.True(exitCode == 0, output);
            File.Delete(file);
        }
        master.WaitForOutput("Starting BGSAVE for SYNC with target: replicas sockets");

        using var plain = new RawReplica(master.Port);
        plain.Send("SYNC");
        Assert.Matches("^\\$[0-9]+$", plain.Line());
        master.WaitForOutput("Starting BGSAVE for SYNC with target: disk");
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void ReplicaGoneDuringFullSyncThenAnotherSyncs(string diskless)
    {
        // 100 ms per key: the sync's snapshot lasts long enough for the replica to go away first.
        using var master = new MiniRedisProcess("--rdb-key-save-delay", "100000", "--repl-diskless-sync", diskless);
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        using (var first = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString()))
        {
            master.WaitForOutput("Starting BGSAVE for SYNC");
        }
        master.WaitForOutput("lost.");
        if (diskless == "yes")
        {
            // Nobody reads the transfer any more: it stops, as Redis kills its child and logs the signal.
            master.WaitForOutput("Diskless rdb transfer, last replica dropped, killing fork child.");
            master.WaitForOutput("# Background transfer terminated by signal 10");
            using var connection = master.Connect();
            Assert.True(Wait.Until(() => connection.InfoField("persistence", "rdb_bgsave_in_progress") == "0"));
        }
        using (var connection = master.Connect())
        {
            Assert.Equal("+PONG\r\n", connection.Text("PING"));
            connection.Call("CONFIG", "SET", "rdb-key-save-delay", "0");
        }
        using var second = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, second);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(second));
    }

    static int Occurrences(string text, string part) => text.Split(part).Length - 1;

    /// <summary>"section:field" from INFO.</summary>
    static string? Field(ServerProcess server, string sectionField)
    {
        var (section, field) = (sectionField[..sectionField.IndexOf(':', StringComparison.Ordinal)], sectionField[(sectionField.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        using var connection = server.Connect();
        return connection.InfoField(section, field);
    }

    /// <summary>A replica's side of the protocol by hand: commands, reply lines, and the payload up to an end mark.</summary>
    sealed class RawReplica : IDisposable
    {
        readonly TcpClient _client = new();
        readonly NetworkStream _stream;
        readonly List<byte> _pending = [];

        public RawReplica(int port)
        {
            _client.Connect("127.0.0.1", port);
            _client.ReceiveTimeout = 30_000;
            _stream = _client.GetStream();
        }

        public void Send(params string[] args) => _stream.Write(RespConnection.EncodeCommand([.. args.Select(Encoding.ASCII.GetBytes)]));

        public string Command(params string[] args)
        {
            Send(args);
            return Line();
        }

        /// <summary>The next line that is not a keepalive newline, without its CRLF.</summary>
        public string Line()
        {
            while (true)
            {
                int newline = _pending.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    Fill();
                    continue;
                }
                string line = Encoding.ASCII.GetString([.. _pending.Take(newline)]).TrimEnd('\r');
                _pending.RemoveRange(0, newline + 1);
                if (line.Length > 0) return line;
            }
        }

        public byte[] ReadUntil(byte[] mark)
        {
            while (true)
            {
                int at = _pending.Count < mark.Length ? -1 : System.MemoryExtensions.IndexOf(_pending.ToArray().AsSpan(), mark);
                if (at >= 0)
                {
                    var payload = _pending.Take(at).ToArray();
                    _pending.RemoveRange(0, at + mark.Length);
                    return payload;
                }
                Fill();
            }
        }

        void Fill()
        {
            var buffer = new byte[64 * 1024];
            int n = _stream.Read(buffer);
            if (n == 0) throw new IOException("closed by the master");
            _pending.AddRange(buffer.AsSpan(0, n));
        }

        public void Dispose()
        {
            _stream.Dispose();
            _client.Dispose();
        }
    }
}
