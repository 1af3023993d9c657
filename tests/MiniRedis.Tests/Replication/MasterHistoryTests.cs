using System.Net;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// The replication history a dump carries, as Redis 7.0 uses it: a master restarted from its dump
/// keeps the saved ID as its second one (valid up to the saved offset) with a backlog from there, so
/// its replica continues with a partial resync; and a replica's dump taken while its master's MULTI
/// is half received is at the offset before that MULTI (Redis's master->reploff), so a replica
/// restarted from it receives the whole transaction again. Keys a master's dump holds expired reach
/// its replicas as DELs after the saved offset.
/// </summary>
[Trait("Category", "Differential")]
public sealed class MasterHistoryTests
{
    static ServerProcess Server(bool real, params string[] directives) =>
        real ? new RealRedisProcess(directives) : new MiniRedisProcess(directives);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MasterRestartedFromItsDumpLetsItsReplicaContinue(bool realMaster)
    {
        string dir = Directory.CreateTempSubdirectory("repl-master-dump-").FullName;
        try
        {
            using var replica = new RealRedisProcess();
            string oldId;
            long oldOffset;
            // No PING in the stream: the offsets compared stay put.
            using (var master = Server(realMaster, "--dir", dir, "--repl-ping-replica-period", "3600"))
            {
                using (var connection = replica.Connect()) connection.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
                using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
                ReplicationChecks.WaitCaughtUp(master, replica);
                oldId = ReplicationChecks.InfoField(master, "master_replid")!;
                oldOffset = ReplicationChecks.Offset(master, "master_repl_offset");
                using (var connection = master.Connect()) Assert.Equal("+OK\r\n", connection.Text("SAVE"));
            }
            using var restarted = Server(realMaster, "--dir", dir, "--repl-ping-replica-period", "3600");
            Assert.NotEqual(oldId, ReplicationChecks.InfoField(restarted, "master_replid"));
            Assert.Equal(oldId, ReplicationChecks.InfoField(restarted, "master_replid2"));
            Assert.Equal(oldOffset + 1, ReplicationChecks.Offset(restarted, "second_repl_offset"));
            Assert.Equal(oldOffset, ReplicationChecks.Offset(restarted, "master_repl_offset"));
            Assert.Equal("1", ReplicationChecks.InfoField(restarted, "repl_backlog_active"));
            Assert.Equal(oldOffset + 1, ReplicationChecks.Offset(restarted, "repl_backlog_first_byte_offset"));
            Assert.Equal(0, ReplicationChecks.Offset(restarted, "repl_backlog_histlen"));

            using (var connection = replica.Connect()) connection.Call("REPLICAOF", "127.0.0.1", restarted.Port.ToString());
            restarted.WaitForOutput($"Partial resynchronization request from 127.0.0.1:{replica.Port} accepted. Sending 0 bytes of backlog starting from offset {oldOffset + 1}.");
            using (var connection = restarted.Connect()) ReplicationChecks.LiveWrites(connection);
            ReplicationChecks.WaitCaughtUp(restarted, replica);
            Assert.Equal(ReplicationChecks.Dataset(restarted), ReplicationChecks.Dataset(replica));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>SELECT 0, DEL gone1, SELECT 2, DEL gone2: what a master restarted from its dump feeds for the two keys it found expired.</summary>
    static readonly int ExpiredDelsBytes = new[] { Command("SELECT", "0"), Command("DEL", "gone1"), Command("SELECT", "2"), Command("DEL", "gone2") }.Sum(command => command.Length);

    /// <summary>Keys gone1 (database 0) and gone2 (database 2) that expire in 50 ms, with active expiry off so only a load or a lookup removes them; and live.</summary>
    static void WriteKeysThatExpire(RespConnection connection)
    {
        Assert.Equal("+OK\r\n", connection.Text("DEBUG", "SET-ACTIVE-EXPIRE", "0"));
        connection.Call("SET", "live", "1");
        connection.Call("SET", "gone1", "v", "PX", "50");
        connection.Call("SELECT", "2");
        connection.Call("SET", "gone2", "v", "PX", "50");
        connection.Call("SELECT", "0");
    }

    /// <summary>The server's clock (TIME) in ms: waiting on it orders the save after the keys' expiry without touching them.</summary>
    static long ServerTimeMs(ServerProcess server)
    {
        using var connection = server.Connect();
        var parts = connection.Text("TIME").Split("\r\n");
        return long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) * 1000 + long.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture) / 1000;
    }

    /// <summary>
    /// Redis 7.0's loadDataFromDisk on a master: the keys its dump holds with a TTL already passed are
    /// not loaded, and their DELs go to the backlog after the saved offset (RDBFLAGS_FEED_REPL), so
    /// the replica continuing with PSYNC deletes them too.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void KeysExpiredInTheDumpReachTheContinuingReplicaAsDels(bool realMaster)
    {
        string dir = Directory.CreateTempSubdirectory("repl-expired-dump-").FullName;
        try
        {
            using var replica = new RealRedisProcess();
            long oldOffset;
            using (var master = Server(realMaster, "--dir", dir, "--repl-ping-replica-period", "3600"))
            {
                using (var connection = replica.Connect()) connection.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
                long written = ServerTimeMs(master);
                using (var connection = master.Connect()) WriteKeysThatExpire(connection);
                ReplicationChecks.WaitCaughtUp(master, replica);
                Assert.True(Wait.Until(() => ServerTimeMs(master) > written + 100));
                oldOffset = ReplicationChecks.Offset(master, "master_repl_offset");
                using (var connection = master.Connect()) Assert.Equal("+OK\r\n", connection.Text("SAVE"));
            }
            Assert.Equal(2, DbSize(replica, 0));
            Assert.Equal(1, DbSize(replica, 2));

            using var restarted = Server(realMaster, "--dir", dir, "--repl-ping-replica-period", "3600");
            restarted.WaitForOutput("Done loading RDB, keys loaded: 1, keys expired: 2.");
            Assert.Equal(oldOffset + 1, ReplicationChecks.Offset(restarted, "second_repl_offset"));
            Assert.Equal(oldOffset + ExpiredDelsBytes, ReplicationChecks.Offset(restarted, "master_repl_offset"));
            Assert.Equal(oldOffset + 1, ReplicationChecks.Offset(restarted, "repl_backlog_first_byte_offset"));
            Assert.Equal(ExpiredDelsBytes, ReplicationChecks.Offset(restarted, "repl_backlog_histlen"));

            using (var connection = replica.Connect()) connection.Call("REPLICAOF", "127.0.0.1", restarted.Port.ToString());
            restarted.WaitForOutput($"Partial resynchronization request from 127.0.0.1:{replica.Port} accepted. Sending {ExpiredDelsBytes} bytes of backlog starting from offset {oldOffset + 1}.");
            ReplicationChecks.WaitCaughtUp(restarted, replica);
            Assert.Equal(1, DbSize(replica, 0));
            Assert.Equal(0, DbSize(replica, 2));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A dump without a replication history: the restarted master keeps no backlog, but its offset
    /// counts the DELs it fed while loading (Redis's quirk); the same dump loaded by a replica keeps
    /// the expired keys (a replica waits for its master's DELs).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExpiredKeysInADumpWithoutHistory(bool realServer)
    {
        string dir = Directory.CreateTempSubdirectory("expired-dump-").FullName;
        try
        {
            using (var master = Server(realServer, "--dir", dir))
            {
                long written = ServerTimeMs(master);
                using var connection = master.Connect();
                WriteKeysThatExpire(connection);
                Assert.True(Wait.Until(() => ServerTimeMs(master) > written + 100));
                Assert.Equal("+OK\r\n", connection.Text("SAVE"));
            }
            using (var restarted = Server(realServer, "--dir", dir))
            {
                restarted.WaitForOutput("Done loading RDB, keys loaded: 1, keys expired: 2.");
                Assert.Equal(ExpiredDelsBytes, ReplicationChecks.Offset(restarted, "master_repl_offset"));
                Assert.Equal("0", ReplicationChecks.InfoField(restarted, "repl_backlog_active"));
                Assert.Equal(1, DbSize(restarted, 0));
            }
            using var replica = Server(realServer, "--dir", dir, "--replicaof", "127.0.0.1", ServerProcess.FreePort().ToString());
            replica.WaitForOutput("Done loading RDB, keys loaded: 3, keys expired: 0.");
            Assert.Equal(2, DbSize(replica, 0));
            Assert.Equal(1, DbSize(replica, 2));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static long DbSize(ServerProcess server, int db)
    {
        using var connection = server.Connect();
        connection.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return long.Parse(connection.Text("DBSIZE")[1..^2], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A scripted master streams SET, MULTI and a queued SET: real Redis and MiniRedis replicas report
    /// the same offsets and save the offset before the MULTI; once EXEC comes, the offset after it.
    /// </summary>
    [Fact]
    public void DumpDuringAHalfReceivedMultiIsAtTheOffsetBeforeIt()
    {
        byte[] emptyRdb;
        using (var source = new RealRedisProcess())
        {
            using var connection = source.Connect();
            connection.Call("SAVE");
            emptyRdb = File.ReadAllBytes(Path.Combine(DataDirectoryOf(source), "dump.rdb"));
        }
        byte[] set = Command("SET", "a", "1"), multi = Command("MULTI"), queued = Command("SET", "b", "2"), exec = Command("EXEC");
        List<string> Observe(ServerProcess replica)
        {
            using var master = new ScriptedMaster(emptyRdb);
            using (var connection = replica.Connect()) connection.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
            master.Stream([.. set, .. multi, .. queued]);
            long sent = set.Length + multi.Length + queued.Length;
            Assert.True(Wait.Until(() => ReplicationChecks.Offset(replica, "slave_read_repl_offset") == sent), replica.Output);
            var seen = new List<string> { Shown(replica, "slave_repl_offset"), Shown(replica, "slave_read_repl_offset"), Shown(replica, "master_repl_offset") };
            seen.AddRange(SavedOffset(replica));
            master.Stream(exec);
            Assert.True(Wait.Until(() => ReplicationChecks.Offset(replica, "slave_repl_offset") == sent + exec.Length), replica.Output);
            seen.AddRange(SavedOffset(replica));
            using (var connection = replica.Connect()) seen.Add(connection.Text("GET", "b"));
            using (var connection = replica.Connect()) connection.Call("REPLICAOF", "NO", "ONE");
            return seen;
        }
        using var real = new RealRedisProcess();
        using var mini = new MiniRedisProcess();
        var expected = Observe(real);
        Assert.Equal(expected, Observe(mini));
        Assert.Equal($"repl-offset = '{set.Length}'", expected[3]);
    }

    static string Shown(ServerProcess server, string field) => field + ":" + ReplicationChecks.InfoField(server, field);

    static IEnumerable<string> SavedOffset(ServerProcess server)
    {
        using (var connection = server.Connect()) Assert.Equal("+OK\r\n", connection.Text("SAVE"));
        return ReplicaRestartTests.ReplicationFields(Path.Combine(DataDirectoryOf(server), "dump.rdb"))
            .Where(field => field.StartsWith("repl-offset", StringComparison.Ordinal));
    }

    static string DataDirectoryOf(ServerProcess server)
    {
        using var connection = server.Connect();
        // *2 $3 dir $n <dir>
        return connection.Text("CONFIG", "GET", "dir").Split("\r\n")[4];
    }

    static byte[] Command(params string[] args) => RespConnection.EncodeCommand([.. args.Select(Encoding.ASCII.GetBytes)]);

    /// <summary>A master by script: answers one replica's handshake, sends a full sync of the given RDB at offset 0, then the bytes it is told to.</summary>
    sealed class ScriptedMaster : IDisposable
    {
        readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        readonly Task<Socket> _replica;

        public ScriptedMaster(byte[] rdb)
        {
            _listener.Start();
            _replica = Task.Run(() => Handshake(rdb));
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        Socket Handshake(byte[] rdb)
        {
            var socket = _listener.AcceptSocket();
            using var reader = new RespConnectionReader(socket);
            while (true)
            {
                string name = reader.NextCommandName();
                if (name == "PING") socket.Send("+PONG\r\n"u8);
                else if (name == "REPLCONF") socket.Send("+OK\r\n"u8);
                else if (name == "PSYNC" || name == "SYNC")
                {
                    socket.Send(Encoding.ASCII.GetBytes($"+FULLRESYNC {new string('a', 40)} 0\r\n${rdb.Length}\r\n"));
                    socket.Send(rdb);
                    return socket;
                }
            }
        }

        public void Stream(byte[] bytes) => _replica.Result.Send(bytes);

        public void Dispose()
        {
            if (_replica.IsCompletedSuccessfully) _replica.Result.Dispose();
            _listener.Stop();
            _listener.Dispose();
        }
    }

    /// <summary>Reads the replica's handshake commands (arrays of bulk strings) off a socket.</summary>
    sealed class RespConnectionReader(Socket socket) : IDisposable
    {
        readonly NetworkStream _stream = new(socket, ownsSocket: false);

        public string NextCommandName()
        {
            int count = int.Parse(Line()[1..], System.Globalization.CultureInfo.InvariantCulture);
            string name = "";
            for (int i = 0; i < count; i++)
            {
                Line();
                string arg = Line();
                if (i == 0) name = arg.ToUpperInvariant();
            }
            return name;
        }

        string Line()
        {
            var line = new StringBuilder();
            while (true)
            {
                int b = _stream.ReadByte();
                if (b < 0) throw new IOException("the replica closed the connection");
                if (b == '\n') return line.ToString().TrimEnd('\r');
                line.Append((char)b);
            }
        }

        public void Dispose() => _stream.Dispose();
    }
}
