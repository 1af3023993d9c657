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
/// restarted from it receives the whole transaction again.
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
            Assert.True(Wait.Until(() => restarted.Output.Contains($"Partial resynchronization request from 127.0.0.1:{replica.Port} accepted. Sending 0 bytes of backlog starting from offset {oldOffset + 1}.", StringComparison.Ordinal)), restarted.Output);
            using (var connection = restarted.Connect()) ReplicationChecks.LiveWrites(connection);
            ReplicationChecks.WaitCaughtUp(restarted, replica);
            Assert.Equal(ReplicationChecks.Dataset(restarted), ReplicationChecks.Dataset(replica));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
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
