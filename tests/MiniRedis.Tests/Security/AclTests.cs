using System.Text;
using MiniRedis.Tests.Support;
using StackExchange.Redis;

namespace MiniRedis.Tests.Security;

/// <summary>
/// ACL behaviour beyond single replies, each scenario run on redis-server 7.0.15 and on MiniRedis:
/// what happens to connections when users change, the ACL file, the ACL log, transactions whose
/// permissions change, users declared in a config file, and a client library authenticating as a user.
/// </summary>
public sealed class AclTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("miniredis-acl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs <paramref name="scenario"/> on both servers and requires the same observations.</summary>
    static List<string> OnBoth(Func<ServerProcess, List<string>> scenario, params string[] directives)
    {
        List<string> redis, mini;
        using (var server = new RealRedisProcess(directives)) redis = scenario(server);
        using (var server = new MiniRedisProcess(directives)) mini = scenario(server);
        Assert.Equal(redis, mini);
        return mini;
    }

    static string Call(RespConnection connection, params string[] args) => Encoding.Latin1.GetString(connection.Call(args));

    /// <summary>What a connection gets for a PING: the reply, or "closed" when the server closed it.</summary>
    static string PingOrClosed(RespConnection connection)
    {
        connection.Send(RespConnection.EncodeCommand([.. new[] { "PING" }.Select(Encoding.ASCII.GetBytes)]));
        var received = connection.ReadUntilClosed();
        return received.Length == 0 ? "closed" : Encoding.Latin1.GetString(received);
    }

    [Fact]
    public void DeletingAUser_ClosesItsConnections_TheCallersAfterItsReply()
    {
        var seen = OnBoth(server =>
        {
            using var admin = server.Connect();
            using var user = server.Connect();
            using var self = server.Connect();
            using var bystander = server.Connect();
            return
            [
                Call(admin, "ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*"),
                Call(user, "AUTH", "u", "x"),
                Call(self, "AUTH", "u", "x"),
                Call(user, "CLIENT", "INFO").Contains(" user=u ", StringComparison.Ordinal).ToString(),
                // The caller deletes its own user: it gets the reply, then its connection closes.
                Call(self, "ACL", "DELUSER", "u"),
                PingOrClosed(self),
                PingOrClosed(user),
                Call(bystander, "PING"),
                Call(admin, "ACL", "USERS"),
            ];
        });
        Assert.Equal(["+OK\r\n", "+OK\r\n", "+OK\r\n", "True", ":1\r\n", "closed", "closed", "+PONG\r\n", "*1\r\n$7\r\ndefault\r\n"], seen);
    }

    [Fact]
    public void RevokingASubscribersChannels_ClosesItsConnection()
    {
        var seen = OnBoth(server =>
        {
            using var admin = server.Connect();
            using var kept = server.Connect();
            using var lost = server.Connect();
            Call(admin, "ACL", "SETUSER", "s", "on", "nopass", "+@all", "~*", "resetchannels", "&news", "&sport");
            Call(kept, "AUTH", "s", "x");
            Call(lost, "AUTH", "s", "x");
            return
            [
                Call(kept, "SUBSCRIBE", "sport"),
                Call(lost, "SUBSCRIBE", "news"),
                // A superset of the old channels closes nothing; losing 'news' closes only its subscriber.
                Call(admin, "ACL", "SETUSER", "s", "&more"),
                Call(admin, "ACL", "SETUSER", "s", "resetchannels", "&sport"),
                PingOrClosed(lost),
                Call(kept, "PING"),
            ];
        });
        Assert.Equal("closed", seen[4]);
    }

    [Fact]
    public void ChangedPermissions_AreCheckedAgainAtExec()
    {
        var seen = OnBoth(server =>
        {
            using var admin = server.Connect();
            using var client = server.Connect();
            Call(admin, "ACL", "SETUSER", "t", "on", "nopass", "+@all", "~k*");
            return
            [
                Call(client, "AUTH", "t", "x"),
                Call(client, "MULTI"),
                Call(client, "SET", "k1", "v"),
                Call(client, "GET", "k1"),
                Call(client, "INCR", "k2"),
                Call(admin, "ACL", "SETUSER", "t", "-get", "resetkeys", "~k1"),
                Call(client, "EXEC"),
                Call(admin, "ACL", "LOG", "1").Contains("multi", StringComparison.Ordinal).ToString(),
            ];
        });
        Assert.Contains("ACLs rules changed between the moment the transaction was accumulated and the EXEC call", seen[6], StringComparison.Ordinal);
    }

    /// <summary>ACL LOG entries: every field but the age and the client line (whose ids and ports differ), and the bound acllog-max-len sets.</summary>
    [Fact]
    public void AclLog_RecordsDenials_AggregatesRepeats_AndStaysBounded()
    {
        OnBoth(server =>
        {
            using var admin = server.Connect();
            using var client = server.Connect();
            Call(admin, "ACL", "SETUSER", "r", "on", ">pw", "+get", "+set", "+eval", "+multi", "+exec", "+publish", "~k*", "resetchannels", "&c1");
            var seen = new List<string>
            {
                Call(client, "AUTH", "r", "bad"),
                Call(client, "AUTH", "r", "pw"),
                Call(client, "GET", "x"),
                Call(client, "GET", "x"),
                Call(client, "HGET", "k", "f"),
                Call(client, "PUBLISH", "c2", "m"),
                Call(client, "EVAL", "return redis.call('get', 'y')", "0"),
                Call(client, "MULTI"),
                Call(client, "GET", "z"),
                Call(client, "EXEC"),
            };
            var log = admin.Call("ACL", "LOG");
            seen.AddRange(LogFields(log));
            seen.Add(Encoding.Latin1.GetString(log).Contains("user=r", StringComparison.Ordinal).ToString());
            seen.Add(Call(admin, "CONFIG", "SET", "acllog-max-len", "2"));
            seen.Add(Call(client, "GET", "w"));
            seen.Add(LogFields(admin.Call("ACL", "LOG")).Count(f => f == "count").ToString());
            seen.Add(Call(admin, "ACL", "LOG", "RESET"));
            seen.Add(Call(admin, "ACL", "LOG"));
            return seen;
        });
    }

    /// <summary>An ACL LOG reply's bulk strings and integers, without the age-seconds and client-info values.</summary>
    static List<string> LogFields(byte[] reply)
    {
        var text = Encoding.Latin1.GetString(reply).Split("\r\n");
        var fields = new List<string>();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i].StartsWith(':')) fields.Add(text[i]);
            else if (text[i].StartsWith('$') && i + 1 < text.Length)
            {
                fields.Add(text[++i]);
                if (fields[^1] is "age-seconds" or "client-info") i += 2;
            }
        }
        return fields;
    }

    [Fact]
    public void AclFile_SavesAndLoads_AndADamagedFileChangesNothing()
    {
        var results = new List<List<string>>();
        foreach (var real in new[] { true, false })
        {
            string file = Path.Combine(_dir, real ? "redis.acl" : "mini.acl");
            File.WriteAllText(file, "user default on nopass ~* &* +@all\nuser a on #" + new string('0', 64) + " ~a:* resetchannels +@read\n");
            using ServerProcess server = real ? new RealRedisProcess("--aclfile", file) : new MiniRedisProcess("--aclfile", file);
            using var admin = server.Connect();
            using var userA = server.Connect();
            var seen = new List<string>
            {
                Call(admin, "ACL", "LIST"),
                Call(admin, "ACL", "SETUSER", "b", "on", ">pw", "~b:*", "&b", "-@all", "+@hash", "(~x +get)"),
                Call(admin, "ACL", "SAVE"),
                File.ReadAllText(file),
            };
            File.WriteAllText(file, "user default on nopass ~* &* +@all\nuser c on ~c\nuser d on +nosuch\nnotuser x\nuser e %X~y\nuser f (~x\nuser c off\n\nuser g >only\n");
            seen.Add(Call(admin, "ACL", "LOAD").Replace(file, "FILE", StringComparison.Ordinal));
            seen.Add(Call(admin, "ACL", "LIST"));
            Call(admin, "ACL", "SETUSER", "a", ">apw");
            seen.Add(Call(userA, "AUTH", "a", "apw"));
            File.WriteAllText(file, "user z on nopass ~z* +get\n");
            seen.Add(Call(admin, "ACL", "LOAD"));
            seen.Add(Call(admin, "ACL", "LIST"));
            seen.Add(PingOrClosed(userA));
            File.Delete(file);
            seen.Add(Call(admin, "ACL", "LOAD").Replace(file, "FILE", StringComparison.Ordinal));
            results.Add(seen);
        }
        Assert.Equal(results[0], results[1]);
        Assert.Contains(":3: Error in applying operation '+nosuch'", results[1][4], StringComparison.Ordinal);
        Assert.Equal("closed", results[1][9]);
    }

    [Fact]
    public void UsersDeclaredInTheConfigFile_AreLoaded_AndAclfileBesideThemStopsTheStart()
    {
        string config = Path.Combine(_dir, "users.conf");
        File.WriteAllText(config, "user alice on >secret ~app:* +@read +@write\nuser default on nopass ~* &* +@all\n");
        var lists = new List<string>();
        using (var redis = RealRedisProcess.WithConfigFile(config))
        using (var connection = redis.Connect()) lists.Add(Call(connection, "ACL", "LIST"));
        using (var mini = MiniRedisProcess.WithConfigFile(config))
        using (var connection = mini.Connect())
        {
            lists.Add(Call(connection, "ACL", "LIST"));
            Assert.Equal("+OK\r\n", Call(connection, "AUTH", "alice", "secret"));
            Assert.StartsWith("-NOPERM", Call(connection, "GET", "other"), StringComparison.Ordinal);
        }
        Assert.Equal(lists[0], lists[1]);

        string acl = Path.Combine(_dir, "users.acl");
        File.WriteAllText(acl, "");
        var refused = Assert.Throws<InvalidOperationException>(() => MiniRedisProcess.WithConfigFile(config, "--aclfile", acl).Dispose());
        Assert.Contains("please define either an ACL file or declare users directly in your redis.conf, but not both", refused.Message, StringComparison.Ordinal);

        File.WriteAllText(config, "user bob on badrule\n");
        var badRule = Assert.Throws<InvalidOperationException>(() => MiniRedisProcess.WithConfigFile(config).Dispose());
        Assert.Contains(">>> 'user bob on badrule'\nError in user declaration 'bob': Syntax error", badRule.Message.Replace("\r", ""), StringComparison.Ordinal);
    }

    [Fact]
    public void RequirePass_IsTheDefaultUsersPassword()
    {
        OnBoth(server =>
        {
            using var admin = server.Connect();
            var seen = new List<string> { Call(admin, "CONFIG", "SET", "requirepass", "s3cret"), Call(admin, "ACL", "LIST") };
            using var client = server.Connect();
            seen.Add(Call(client, "GET", "k"));
            seen.Add(Call(client, "AUTH", "wrong"));
            seen.Add(Call(client, "AUTH", "s3cret"));
            seen.Add(Call(client, "ACL", "WHOAMI"));
            seen.Add(Call(admin, "CONFIG", "SET", "requirepass", ""));
            seen.Add(Call(admin, "ACL", "LIST"));
            return seen;
        });
    }

    [Fact]
    public void StackExchangeRedis_ConnectsAsAUser_AndAWrongPasswordFailsAsWithRedis()
    {
        var wrongPassword = new List<string>();
        foreach (var real in new[] { true, false })
        {
            using ServerProcess server = real ? new RealRedisProcess() : new MiniRedisProcess();
            using (var admin = server.Connect())
            {
                Assert.Equal("+OK\r\n", Call(admin, "ACL", "SETUSER", "app", "on", ">app-secret", "~app:*", "+@all", "-@dangerous"));
                // With a password on the default user, a failed AUTH leaves the connection with nothing it may run.
                Assert.Equal("+OK\r\n", Call(admin, "ACL", "SETUSER", "default", "resetpass", ">admin-secret"));
            }
            var options = Options(server.Port, "app-secret");
            using (var multiplexer = ConnectionMultiplexer.Connect(options))
            {
                var db = multiplexer.GetDatabase();
                db.StringSet("app:k", "v");
                Assert.Equal("v", db.StringGet("app:k"));
                var denied = Assert.Throws<RedisServerException>(() => db.StringGet("elsewhere"));
                Assert.StartsWith("NOPERM", denied.Message, StringComparison.Ordinal);
            }
            wrongPassword.Add(WrongPasswordOutcome(server.Port));
        }
        Assert.Equal(wrongPassword[0], wrongPassword[1]);
        Assert.NotEqual("connected", wrongPassword[1]);
    }

    static ConfigurationOptions Options(int port, string password)
    {
        var options = new ConfigurationOptions { User = "app", Password = password, AbortOnConnectFail = true, ConnectTimeout = 5_000, SyncTimeout = 5_000 };
        options.EndPoints.Add("127.0.0.1", port);
        return options;
    }

    static string WrongPasswordOutcome(int port)
    {
        try
        {
            using var multiplexer = ConnectionMultiplexer.Connect(Options(port, "wrong"));
            multiplexer.GetDatabase().Ping();
            return "connected";
        }
        catch (RedisConnectionException e)
        {
            return "refused: " + e.FailureType;
        }
        catch (RedisServerException e)
        {
            return "error: " + e.Message;
        }
    }
}
