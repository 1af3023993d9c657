using System.Globalization;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>What the replication tests ask of a master and its replica: INFO fields, the wait for a caught-up replica, dataset comparison.</summary>
static class ReplicationChecks
{
    public static string Text(this RespConnection connection, params string[] args) => Encoding.Latin1.GetString(connection.Call(args));

    /// <summary>One INFO replication field, or null.</summary>
    public static string? InfoField(ServerProcess server, string field)
    {
        using var connection = server.Connect();
        return connection.InfoField("replication", field);
    }

    public static long Offset(ServerProcess server, string field) =>
        long.Parse(InfoField(server, field) ?? "-1", CultureInfo.InvariantCulture);

    /// <summary>Waits until the replica's link is up and it processed everything the master produced.</summary>
    public static void WaitCaughtUp(ServerProcess master, ServerProcess replica)
    {
        bool caughtUp = Wait.Until(() => InfoField(replica, "master_link_status") == "up"
            && Offset(replica, "slave_repl_offset") == Offset(master, "master_repl_offset"));
        Assert.True(caughtUp, $"replica not caught up: master {InfoField(master, "master_repl_offset")}, replica {InfoField(replica, "slave_repl_offset")}\nmaster log:\n{master.Output}\nreplica log:\n{replica.Output}");
    }

    /// <summary>Every key of every database with its type, TTL presence and DEBUG DIGEST-VALUE (entries for a stream), sorted.</summary>
    public static List<string> Dataset(ServerProcess server)
    {
        using var connection = server.Connect();
        var lines = new List<string>();
        for (int db = 0; db < 16; db++)
        {
            connection.Call("SELECT", db.ToString(CultureInfo.InvariantCulture));
            foreach (var key in connection.ReadKeys())
            {
                string type = connection.Text("TYPE", key);
                bool volatileKey = connection.Text("PTTL", key) != ":-1\r\n";
                // MiniRedis's DEBUG DIGEST-VALUE does not know streams yet: their entries stand in.
                string value = type.Trim() == "+stream" ? connection.Text("XRANGE", key, "-", "+") : connection.Text("DEBUG", "DIGEST-VALUE", key);
                lines.Add($"{db} {key} {type.Trim()} ttl={volatileKey} {value.Trim()}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    static IEnumerable<string> ReadKeys(this RespConnection connection)
    {
        connection.Send(Encoding.Latin1.GetString(RespConnection.EncodeCommand([.. new[] { "KEYS", "*" }.Select(Encoding.Latin1.GetBytes)])));
        return connection.ReadReply().Children.Select(child => Encoding.Latin1.GetString(Bulk(child.Raw)));
    }

    /// <summary>The payload of a raw bulk reply ($n\r\n...\r\n).</summary>
    static byte[] Bulk(byte[] raw)
    {
        int start = Array.IndexOf(raw, (byte)'\n') + 1;
        return raw[start..^2];
    }

    /// <summary>A dataset with every type, expiring keys, and keys in other databases.</summary>
    public static void Fill(RespConnection connection, string prefix = "")
    {
        connection.Call("SET", prefix + "str", "hello");
        connection.Call("SET", prefix + "int", "12345");
        connection.Call("SET", prefix + "ttl", "v", "EX", "1000");
        connection.Call("RPUSH", prefix + "list", "a", "b", "c", "1", "2");
        connection.Call("HSET", prefix + "hash", "f1", "v1", "f2", "2");
        connection.Call("SADD", prefix + "intset", "1", "2", "3");
        connection.Call("SADD", prefix + "set", "x", "y", "z");
        connection.Call("ZADD", prefix + "zset", "1", "a", "2.5", "b");
        connection.Call("PFADD", prefix + "hll", "a", "b", "c");
        connection.Call("SETBIT", prefix + "bits", "100", "1");
        connection.Call("XADD", prefix + "stream", "1-1", "f", "v");
        connection.Call("XGROUP", "CREATE", prefix + "stream", "g", "0");
        for (int i = 0; i < 200; i++) connection.Call("HSET", prefix + "bighash", "field" + i, new string('v', i % 70));
        for (int i = 0; i < 200; i++) connection.Call("ZADD", prefix + "bigzset", i.ToString(CultureInfo.InvariantCulture), "m" + i);
        connection.Call("SELECT", "3");
        connection.Call("SET", prefix + "in3", "three");
        connection.Call("SELECT", "0");
    }

    /// <summary>Writes after a sync: every type again, EXPIRE, MULTI/EXEC, a script's effects, ending in database 7.</summary>
    public static void LiveWrites(RespConnection connection)
    {
        Fill(connection, "live:");
        connection.Call("EXPIRE", "str", "500");
        connection.Call("MULTI");
        connection.Call("INCR", "int");
        connection.Call("LPUSH", "list", "front");
        connection.Call("EXEC");
        connection.Call("EVAL", "redis.call('SET', KEYS[1], 'lua'); redis.call('SADD', KEYS[2], 'm'); return 1", "2", "fromlua", "luaset");
        connection.Call("SELECT", "7");
        connection.Call("SET", "seven", "7");
    }
}

/// <summary>
/// A large dataset of every type for the full-sync tests, loaded with redis-cli --pipe, and its
/// key-by-key comparison, a page of keys per call (the one-call-per-key <see cref="ReplicationChecks.Dataset"/> is too slow for it).
/// </summary>
static class LargeDataset
{
    /// <summary>
    /// Keys k<paramref name="from"/>..k<paramref name="to"/>: strings (some with a TTL, some integers), lists, hashes, sets,
    /// sorted sets and streams; a later <paramref name="pass"/> over the same keys adds stream entries with higher IDs.
    /// </summary>
    public static void Load(ServerProcess server, int from, int to, int pass = 0)
    {
        string file = Path.GetTempFileName();
        try
        {
            using (var writer = new BufferedStream(File.Create(file), 1 << 20))
            {
                for (int i = from; i < to; i++)
                {
                    string key = "k" + i.ToString(CultureInfo.InvariantCulture);
                    string n = i.ToString(CultureInfo.InvariantCulture);
                    string[] command = (i % 6) switch
                    {
                        0 when i % 10 == 0 => ["SET", key, "value:" + n, "EX", "100000"],
                        0 when i % 1000 == 6 => ["SET", key, new string('s', 100 + i % 1000)],
                        0 => ["SET", key, "value:" + n],
                        // Now and then a key of each type in its large encoding (quicklist, hashtable, skiplist).
                        1 when i % 10_000 == 1 => ["RPUSH", key, .. Many("e", i)],
                        1 => ["RPUSH", key, "a" + n, "b", n],
                        2 when i % 10_000 == 2 => ["HSET", key, .. Many("f", i).SelectMany(field => new[] { field, "v" + field })],
                        2 => ["HSET", key, "f1", n, "f2", "v" + n],
                        3 when i % 10_000 == 3 => ["SADD", key, .. Many("m", i)],
                        3 when i % 12 == 9 => ["SADD", key, n, "7", "-3"],
                        3 => ["SADD", key, n, "m" + n, "x"],
                        4 when i % 10_000 == 4 => ["ZADD", key, .. Many("z", i).SelectMany((member, rank) => new[] { (rank * 0.5).ToString(CultureInfo.InvariantCulture), member })],
                        4 => ["ZADD", key, n, "a", "-1.5", "b" + n],
                        _ when i % 60 == 5 => ["XADD", key, $"{pass + 1}-{i % 1000 + 1}", "f", n],
                        _ => ["SET", key, n],
                    };
                    writer.Write(RespConnection.EncodeCommand([.. command.Select(Encoding.ASCII.GetBytes)]));
                }
            }
            var info = new System.Diagnostics.ProcessStartInfo("sh", ["-c", $"{RealRedisProcess.ExecutablePath("redis-cli")} -p {server.Port} --pipe < {file}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var cli = System.Diagnostics.Process.Start(info)!;
            string output = cli.StandardOutput.ReadToEnd() + cli.StandardError.ReadToEnd();
            cli.WaitForExit();
            Assert.True(cli.ExitCode == 0 && output.Contains("errors: 0,", StringComparison.Ordinal), output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>300 elements, past every small encoding's size.</summary>
    static IEnumerable<string> Many(string prefix, int key) =>
        Enumerable.Range(0, 300).Select(j => prefix + (key + j).ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Every key of database 0 with its DEBUG DIGEST-VALUE, sorted: Redis's xorObjectDigest mixes in the
    /// type, the value and whether the key has a TTL. MiniRedis's does not know streams yet: a stream's
    /// line has its entries and TTL presence instead. SCAN hands out the keys 10,000 at a time, and
    /// each page costs one DEBUG DIGEST-VALUE call.
    /// </summary>
    public static List<string> Lines(ServerProcess server)
    {
        using var connection = RespConnection.Open(server.Port, receiveTimeoutMs: 120_000);
        connection.Call("SELECT", "0");
        var streams = new HashSet<string>(StringComparer.Ordinal);
        foreach (var page in Scan(connection, "TYPE", "stream")) streams.UnionWith(page);
        var lines = StreamLines(connection, [.. streams]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var page in Scan(connection))
        {
            // SCAN may return a key twice (never miss one) when the table is resized between calls.
            var keys = page.Where(key => !streams.Contains(key) && seen.Add(key)).ToList();
            if (keys.Count == 0) continue;
            connection.Send(Command(["DEBUG", "DIGEST-VALUE", .. keys]));
            var digests = connection.ReadReply().Children;
            lines.AddRange(keys.Select((key, i) => $"{key} {digests[i].Text.Trim()}"));
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>The pages of a whole SCAN with <paramref name="filter"/> (TYPE t), 10,000 keys asked for at a time.</summary>
    static IEnumerable<List<string>> Scan(RespConnection connection, params string[] filter)
    {
        string cursor = "0";
        do
        {
            connection.Send(Command(["SCAN", cursor, "COUNT", "10000", .. filter]));
            var page = connection.ReadReply();
            cursor = BulkText(page.Children[0]);
            yield return [.. page.Children[1].Children.Select(BulkText)];
        } while (cursor != "0");
    }

    /// <summary>Each stream's entries and whether it has a TTL, in one round trip.</summary>
    static List<string> StreamLines(RespConnection connection, List<string> streams)
    {
        var batch = new MemoryStream();
        foreach (var key in streams)
        {
            batch.Write(Command("XRANGE", key, "-", "+"));
            batch.Write(Command("PTTL", key));
        }
        connection.Send(batch.ToArray());
        return [.. streams.Select(key => $"{key} stream {connection.ReadReply().Text} ttl={connection.ReadReply().Text != ":-1\r\n"}")];
    }

    static byte[] Command(params string[] args) => RespConnection.EncodeCommand([.. args.Select(Encoding.Latin1.GetBytes)]);

    static string BulkText(RespNode bulk) => bulk.Text[(bulk.Text.IndexOf('\n') + 1)..^2];
}
