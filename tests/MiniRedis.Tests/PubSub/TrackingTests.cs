using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.PubSub;

/// <summary>
/// Client-side caching (CLIENT TRACKING) compared byte for byte with real Redis 7.0.15: invalidation
/// pushes in RESP3, messages on __redis__:invalidate for a RESP2 redirection, BCAST prefixes,
/// OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, FLUSHALL/FLUSHDB, broken redirections, errors, and
/// the INFO counters after clients leave.
/// </summary>
[Trait("Category", "Differential")]
public sealed class TrackingTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    void AssertSameAsRedis(Action<Transcript> scenario) => Transcript.AssertSame(servers, scenario);

    static string InfoLines(RespConnection connection, string section, params string[] fields)
    {
        var lines = Encoding.ASCII.GetString(connection.Call("INFO", section)).Split("\r\n");
        return string.Join(",", fields.Select(f => lines.Single(l => l.StartsWith(f + ":", StringComparison.Ordinal))));
    }

    [Fact]
    public void Resp3_invalidations_including_own_writes_transactions_and_flushes_match_redis() => AssertSameAsRedis(t =>
    {
        t.Send("w", "FLUSHALL");
        t.Send("w", "MSET t.a 1 t.b 2 t.c 3");
        t.Quietly("c", "HELLO 3");
        t.Send("c", "CLIENT TRACKING on");
        t.Send("c", "GET t.a");
        t.Send("c", "MGET t.b t.c t.missing");
        t.Send("c", "STRLEN t.a");
        // Another client's write: one push per key.
        t.Send("w", "SET t.b x");
        t.Read("c", 1);
        // Deleting a missing key modifies nothing: only t.c is invalidated.
        t.Send("w", "DEL t.c t.missing");
        t.Read("c", 1);
        // A key is forgotten once invalidated: a second write sends nothing until it is read again.
        t.Send("w", "SET t.c y");
        // Its own write: the push follows the reply; in a transaction it follows EXEC's reply.
        t.Send("c", "SET t.a 2", 2);
        t.Send("c", "GET t.a");
        t.Send("c", "MULTI");
        t.Send("c", "INCR t.a");
        t.Send("c", "EXEC", 2);
        t.Send("c", "GET t.b");
        t.Send("c", "FLUSHDB", 2);
        t.Send("c", "GET t.b");
        t.Send("w", "FLUSHALL");
        t.Read("c", 1);
        t.Send("c", "CLIENT TRACKINGINFO");
        t.Send("c", "CLIENT GETREDIR");
        t.Send("c", "CLIENT TRACKING off");
        t.Send("c", "CLIENT TRACKINGINFO");
        t.Send("c", "CLIENT GETREDIR");
    });

    /// <summary>A key evicted by maxmemory is invalidated like a deleted one (Redis's signalModifiedKey on eviction).</summary>
    [Fact]
    public void Eviction_invalidates_tracked_keys_as_redis() => AssertSameAsRedis(t =>
    {
        t.Send("w", "FLUSHALL");
        t.Send("w", "SET t.evicted 1");
        t.Quietly("c", "HELLO 3");
        t.Send("c", "CLIENT TRACKING on");
        t.Send("c", "GET t.evicted");
        t.Send("w", "CONFIG SET maxmemory-policy allkeys-lru");
        t.Send("w", "CONFIG SET maxmemory 1");
        // Before the write runs the only key goes (one push), then the write is refused (OOM).
        t.Send("w", "SET t.other 1");
        t.Read("c", 1);
        t.Send("w", "CONFIG SET maxmemory 0");
        t.Send("w", "CONFIG SET maxmemory-policy noeviction");
        t.Send("w", "DBSIZE");
    });

    /// <summary>
    /// A write that serves a blocked client resumes that client's pipeline inside the writer's
    /// command: the writer's own invalidation still goes to the writer, after its reply (it once
    /// went to the resumed client, which does not track, and failed the executor).
    /// </summary>
    [Fact]
    public void Own_invalidation_survives_serving_a_blocked_client_pipeline() => AssertSameAsRedis(t =>
    {
        t.Send("w", "DEL b.k b.q");
        t.Quietly("c", "HELLO 3");
        t.Send("c", "CLIENT TRACKING on");
        t.Send("c", "GET b.k");
        t["blocked"].Send("BLPOP b.q 0\r\nPING\r\n");
        t.WaitForBlockedClients(1);
        t.Send("c", "MULTI");
        t.Send("c", "SET b.k 1");
        t.Send("c", "LPUSH b.q x");
        t.Send("c", "EXEC", 2);
        t.Read("blocked", 2);
        t.Send("c", "PING");
    });

    [Fact]
    public void Noloop_optin_optout_and_caching_match_redis() => AssertSameAsRedis(t =>
    {
        t.Send("w", "FLUSHALL");
        t.Quietly("c", "HELLO 3");
        t.Send("c", "CLIENT TRACKING on NOLOOP");
        t.Send("c", "GET n.a");
        t.Send("c", "SET n.a 1");
        t.Send("c", "GET n.a");
        t.Send("w", "SET n.a 2");
        t.Read("c", 1);
        t.Send("c", "CLIENT TRACKING off");
        t.Send("c", "CLIENT CACHING yes");
        t.Send("c", "CLIENT TRACKING on OPTIN");
        t.Send("c", "CLIENT CACHING no");
        t.Send("c", "CLIENT CACHING maybe");
        t.Send("c", "GET o.notcached");
        t.Send("c", "CLIENT CACHING yes");
        t.Send("c", "CLIENT TRACKINGINFO");
        t.Send("c", "GET o.cached");
        t.Send("c", "CLIENT TRACKINGINFO");
        t.Send("c", "CLIENT TRACKING on OPTOUT");
        t.Send("w", "MSET o.notcached 1 o.cached 1");
        t.Read("c", 1);
        t.Send("c", "CLIENT TRACKING off");
        t.Send("c", "CLIENT TRACKING on OPTOUT");
        t.Send("c", "CLIENT CACHING no");
        t.Send("c", "GET o.skipped");
        t.Send("c", "GET o.kept");
        t.Send("w", "MSET o.skipped 2 o.kept 2");
        t.Read("c", 1);
    });

    [Fact]
    public void Bcast_prefixes_and_option_errors_match_redis() => AssertSameAsRedis(t =>
    {
        t.Send("w", "FLUSHALL");
        t.Quietly("c", "HELLO 3");
        t.Send("c", "CLIENT TRACKING on PREFIX a");
        t.Send("c", "CLIENT TRACKING on BCAST OPTIN");
        t.Send("c", "CLIENT TRACKING on OPTIN OPTOUT");
        t.Send("c", "CLIENT TRACKING on BCAST PREFIX ab PREFIX a");
        t.Send("c", "CLIENT TRACKING maybe");
        t.Send("c", "CLIENT TRACKING on NOSUCH");
        t.Send("c", "CLIENT TRACKING on REDIRECT 999999");
        t.Send("c", "CLIENT TRACKING on REDIRECT notanumber");
        t.Send("c", "CLIENT TRACKING");
        t.Send("c", "CLIENT CACHING");
        t.Send("c", "CLIENT TRACKING on BCAST PREFIX user: PREFIX item: NOLOOP");
        t.Send("c", "CLIENT TRACKING on");
        t.Send("c", "CLIENT TRACKING on BCAST PREFIX user:1");
        // Re-enabling keeps the prefixes and takes the new options (NOLOOP again).
        t.Send("c", "CLIENT TRACKING on BCAST PREFIX order: NOLOOP");
        t.Send("c", "CLIENT TRACKINGINFO");
        // One message per prefix per round, keys in order; its own writes are left out (NOLOOP).
        t.Send("w", "MSET user:2 a user:1 b item:9 c other d");
        t.Read("c", 2);
        t.Send("c", "SET user:3 mine");
        t.Send("w", "DEL order:1 user:3");
        t.Read("c", 1);
        t.Send("c", "CLIENT TRACKING off");
        t.Send("c", "CLIENT TRACKING on BCAST");
        t.Send("w", "SET anything 1");
        t.Read("c", 1);
    });

    [Fact]
    public void Resp2_redirection_to_a_subscriber_and_broken_redirection_match_redis() => AssertSameAsRedis(t =>
    {
        t.Send("w", "FLUSHALL");
        string redirect = t.ClientId("r");
        t.ClientId("c");
        t.Send("r", "SUBSCRIBE __redis__:invalidate");
        t.Send("c", $"CLIENT TRACKING on REDIRECT {redirect}");
        t.Send("c", $"CLIENT TRACKING on REDIRECT {redirect} REDIRECT {redirect}");
        t.Send("c", "GET r.a");
        t.Send("c", "GET r.b");
        t.Send("w", "SET r.a 1");
        t.Read("r", 1);
        t.Send("c", "SET r.b 1");
        t.Read("r", 1);
        t.Send("c", "FLUSHALL");
        t.Read("r", 1);
        t.Send("c", "CLIENT GETREDIR");
        t.Send("c", "CLIENT TRACKINGINFO");
        t["r"].Send("QUIT\r\n");
        t.Read("r", 1);
        t.WaitForGone(redirect);
        t.Send("c", "GET r.c");
        t.Send("w", "SET r.c 1");
        t.Send("c", "CLIENT TRACKINGINFO");
        t.Quietly("c", "HELLO 3");
        t.Send("c", "GET r.c");
        t.Send("c", "SET r.c 2", 2);
        t.Send("c", "CLIENT TRACKINGINFO");
    });

    /// <summary>
    /// Disconnects (and RESET) stop tracking: INFO's counters drop as in Redis, where ids of gone
    /// clients stay in the table until their keys are invalidated (here by FLUSHALL).
    /// </summary>
    [Fact]
    public void Tracking_counters_return_to_zero_after_disconnect_reset_and_invalidation()
    {
        string Run(ServerProcess server)
        {
            var seen = new StringBuilder();
            using var admin = server.Connect();
            admin.Call("FLUSHALL");
            var clients = new List<RespConnection>();
            for (int c = 0; c < 3; c++)
            {
                var client = server.Connect();
                clients.Add(client);
                client.Call("HELLO", "3");
                client.Call("CLIENT", "TRACKING", "on");
                for (int k = 0; k < 50; k++) client.Call("GET", $"key:{k}");
            }
            var bcast = server.Connect();
            bcast.Call("HELLO", "3");
            bcast.Call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p1", "PREFIX", "p2");
            seen.AppendLine(InfoLines(admin, "clients", "tracking_clients"));
            seen.AppendLine(InfoLines(admin, "stats", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"));
            clients[0].Call("RESET");
            foreach (var client in clients) client.Dispose();
            bcast.Dispose();
            for (int i = 0; i < 100 && !InfoLines(admin, "clients", "tracking_clients").EndsWith(":0", StringComparison.Ordinal); i++) Thread.Sleep(50);
            seen.AppendLine(InfoLines(admin, "clients", "tracking_clients"));
            seen.AppendLine(InfoLines(admin, "stats", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"));
            admin.Call("FLUSHALL");
            seen.AppendLine(InfoLines(admin, "stats", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"));
            return seen.ToString();
        }
        var expected = Run(servers.Redis);
        Assert.Contains("tracking_total_keys:0,tracking_total_items:0,tracking_total_prefixes:0", expected.Split('\n')[^2]);
        Assert.Equal(expected, Run(servers.Mini));
    }

    /// <summary>Keys dropped to keep the table within tracking-table-max-keys did not change: BCAST clients hear nothing of them.</summary>
    [Fact]
    public void Keys_invalidated_for_the_table_limit_are_not_broadcast() => AssertSameAsRedis(t =>
    {
        t.Send("w", "FLUSHALL");
        t.Send("w", "CONFIG SET tracking-table-max-keys 1");
        t.Quietly("b", "HELLO 3");
        t.Send("b", "CLIENT TRACKING on BCAST");
        t.Quietly("a", "HELLO 3");
        t.Send("a", "CLIENT TRACKING on");
        t.Send("a", "GET lim.1");
        t.Send("a", "GET lim.2");
        // Before PING the table is over its limit: a is told of one key (Redis picks it at random, so
        // a's frames are not compared).
        t["a"].Send("PING\r\n");
        while (t["a"].ReadReply().Text != "+PONG\r\n")
        {
        }
        t.Send("w", "SET lim.other 1");
        t.Read("b", 1);
        t.Send("w", "CONFIG SET tracking-table-max-keys 1000000");
    });

    /// <summary>Over tracking-table-max-keys, the next command invalidates keys until the table fits (Redis picks them at random: only counts are compared).</summary>
    [Fact]
    public void Tracking_table_max_keys_invalidates_keys_over_the_limit()
    {
        (long Keys, int Pushes) Run(ServerProcess server)
        {
            using var admin = server.Connect();
            admin.Call("FLUSHALL");
            admin.Call("CONFIG", "SET", "tracking-table-max-keys", "10");
            using var client = server.Connect();
            client.Call("HELLO", "3");
            client.Call("CLIENT", "TRACKING", "on");
            // Before each command over the limit, keys are invalidated until the table fits again.
            client.Send(string.Concat(Enumerable.Range(0, 25).Select(k => $"GET limit:{k}\r\n")) + "PING\r\n");
            int pushes = 0;
            RespNode frame;
            while ((frame = client.ReadReply()).Text != "+PONG\r\n")
            {
                if (frame.Type == (byte)'>') pushes++;
            }
            long keys = long.Parse(InfoLines(admin, "stats", "tracking_total_keys").Split(':')[1]);
            admin.Call("CONFIG", "SET", "tracking-table-max-keys", "1000000");
            return (keys, pushes);
        }
        var expected = Run(servers.Redis);
        Assert.Equal((10L, 15), expected);
        Assert.Equal(expected, Run(servers.Mini));
    }
}
