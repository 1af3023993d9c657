using System.Globalization;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// GEOSEARCH, GEOSEARCHSTORE, GEORADIUS and GEORADIUSBYMEMBER on a few thousand random points against
/// real Redis 7.0.15: the same members in the same order, with the same printed distances, hashes and
/// coordinates, for random centres, shapes, units and options (byte-exact replies).
/// </summary>
[Trait("Category", "Differential")]
public sealed class GeoSearchTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    const int Points = 3000;
    const int Queries = 400;

    static readonly string[] Units = ["m", "km", "ft", "mi"];

    // Clusters where searches find many members, including near the poles' limit and the antimeridian.
    static readonly (double Lon, double Lat)[] Centres = [(13.36, 38.11), (-0.12, 51.5), (179.9, -16.5), (-179.95, 65.0), (2.35, 84.9), (0, 0), (-73.98, -40.7)];

    static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    static (double Lon, double Lat) RandomPoint(Random random)
    {
        if (random.Next(3) == 0) return (random.NextDouble() * 360 - 180, random.NextDouble() * 170 - 85);
        var (lon, lat) = Centres[random.Next(Centres.Length)];
        lon = Math.Clamp(lon + (random.NextDouble() - 0.5) * 2, -180, 180);
        lat = Math.Clamp(lat + (random.NextDouble() - 0.5) * 1, -85.05, 85.05);
        return (lon, lat);
    }

    static List<string[]> Load(Random random)
    {
        var commands = new List<string[]>();
        for (int start = 0; start < Points; start += 100)
        {
            var args = new List<string> { "GEOADD", "pts" };
            for (int i = start; i < start + 100; i++)
            {
                var (lon, lat) = RandomPoint(random);
                args.AddRange([F(lon), F(lat), $"m{i}"]);
            }
            commands.Add([.. args]);
        }
        return commands;
    }

    static string[] RandomQuery(Random random)
    {
        var args = new List<string>();
        string unit = Units[random.Next(Units.Length)];
        double scale = unit switch { "m" => 1, "km" => 1000, "ft" => 0.3048, _ => 1609.34 };
        double meters = Math.Pow(10, 2 + random.NextDouble() * 5);
        string size = F(Math.Round(meters / scale, random.Next(4)));
        int kind = random.Next(4);
        var (lon, lat) = RandomPoint(random);
        string member = $"m{random.Next(Points)}";
        switch (kind)
        {
            case 0:
                args.AddRange(["GEORADIUS", "pts", F(lon), F(lat), size, unit]);
                break;
            case 1:
                args.AddRange(["GEORADIUSBYMEMBER", "pts", member, size, unit]);
                break;
            default:
                args.AddRange(["GEOSEARCH", "pts"]);
                if (random.Next(2) == 0) args.AddRange(["FROMMEMBER", member]);
                else args.AddRange(["FROMLONLAT", F(lon), F(lat)]);
                if (kind == 2) args.AddRange(["BYRADIUS", size, unit]);
                else args.AddRange(["BYBOX", size, F(Math.Round(meters * (0.2 + random.NextDouble() * 2) / scale, 2)), unit]);
                break;
        }
        if (random.Next(2) == 0) args.Add("WITHDIST");
        if (random.Next(3) == 0) args.Add("WITHCOORD");
        if (random.Next(4) == 0) args.Add("WITHHASH");
        switch (random.Next(4))
        {
            case 0: args.Add("ASC"); break;
            case 1: args.Add("DESC"); break;
        }
        if (random.Next(3) == 0)
        {
            args.AddRange(["COUNT", (1 + random.Next(30)).ToString(CultureInfo.InvariantCulture)]);
            if (random.Next(3) == 0) args.Add("ANY");
        }
        return [.. args];
    }

    static string Run(RespConnection connection, string[] command)
    {
        connection.Send(RespConnection.EncodeCommand([.. command.Select(Encoding.ASCII.GetBytes)]));
        return connection.ReadReply().ToString();
    }

    /// <summary>Two fresh connections, to real Redis and MiniRedis, both holding the same random points.</summary>
    (RespConnection Redis, RespConnection Mini) LoadBoth(Random random)
    {
        var redis = servers.Redis.Connect();
        var mini = servers.Mini.Connect();
        foreach (var connection in new[] { redis, mini }) connection.Call("FLUSHALL");
        foreach (var command in Load(random)) Assert.Equal(Run(redis, command), Run(mini, command));
        return (redis, mini);
    }

    [Fact]
    public void Random_searches_match_real_redis()
    {
        var random = new Random(20261207);
        var (redis, mini) = LoadBoth(random);
        using var redisConnection = redis;
        using var miniConnection = mini;

        var mismatches = new StringBuilder();
        int differing = 0, nonEmpty = 0;
        for (int i = 0; i < Queries; i++)
        {
            var query = RandomQuery(random);
            // Half the searches store instead (STORE/STOREDIST, GEOSEARCHSTORE), then the stored zset is compared.
            bool store = random.Next(4) == 0 && !query.Any(a => a.StartsWith("WITH", StringComparison.Ordinal));
            string[][] commands = store ? StoreForm(query, random.Next(2) == 0) : [query];
            foreach (var command in commands)
            {
                string expected = Run(redis, command), actual = Run(mini, command);
                if (expected.Length > 10) nonEmpty++;
                if (expected == actual) continue;
                if (++differing <= 5) mismatches.AppendLine(string.Join(' ', command)).AppendLine($"  redis: {Clip(expected)}").AppendLine($"  mini:  {Clip(actual)}");
            }
        }
        Assert.True(differing == 0, $"{differing} of {Queries} searches differ:\n{mismatches}");
        // The queries must exercise real results, not only empty ones.
        Assert.True(nonEmpty > Queries / 4, $"only {nonEmpty} searches found members");
    }

    /// <summary>
    /// Searches whose radius (or half box) is a member's own distance, to the printed 0.1 mm and a hair
    /// either side: members on the edge must be kept or turned away exactly as Redis does (MiniRedis turns
    /// points away early by bounds of the distance, which must never decide a point this close).
    /// </summary>
    [Fact]
    public void Searches_with_a_member_on_the_edge_match_real_redis()
    {
        var random = new Random(7);
        var (redis, mini) = LoadBoth(random);
        using var redisConnection = redis;
        using var miniConnection = mini;

        var mismatches = new StringBuilder();
        int differing = 0, searches = 0;
        int pairs = 0;
        for (int i = 0; i < 3000 && pairs < 60; i++)
        {
            string centre = $"m{random.Next(Points)}", other = $"m{random.Next(Points)}";
            // A bulk string: "$<length>\r\n<digits>\r\n".
            string[] lines = Encoding.ASCII.GetString(redis.Call("GEODIST", "pts", centre, other, "m")).Split("\r\n");
            if (lines.Length < 2 || !double.TryParse(lines[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double meters) || meters == 0 || meters > 200_000) continue;
            pairs++;
            foreach (double edge in new[] { meters, meters - 1e-4, meters + 1e-4, meters * (1 - 1e-12), meters * (1 + 1e-12) })
            {
                string r = F(edge), side = F(edge * 2);
                foreach (var query in new[]
                {
                    new[] { "GEOSEARCH", "pts", "FROMMEMBER", centre, "BYRADIUS", r, "m", "ASC", "WITHDIST" },
                    ["GEOSEARCH", "pts", "FROMMEMBER", centre, "BYBOX", side, side, "m", "DESC", "COUNT", "5"],
                    ["GEORADIUSBYMEMBER", "pts", centre, r, "m", "COUNT", "3"],
                })
                {
                    searches++;
                    string expected = Run(redis, query), actual = Run(mini, query);
                    if (expected == actual) continue;
                    if (++differing <= 5) mismatches.AppendLine(string.Join(' ', query)).AppendLine($"  redis: {Clip(expected)}").AppendLine($"  mini:  {Clip(actual)}");
                }
            }
        }
        Assert.True(differing == 0, $"{differing} of {searches} searches differ:\n{mismatches}");
        Assert.True(searches > 300, $"only {searches} searches ran");
    }

    static string Clip(string reply) => reply.Length <= 400 ? reply : reply[..400] + $"... ({reply.Length} chars)";

    /// <summary>The query as a store into "dst" (GEOSEARCHSTORE, or GEORADIUS ... STORE/STOREDIST), then the stored zset read back.</summary>
    static string[][] StoreForm(string[] query, bool distances)
    {
        string[] store = query[0] == "GEOSEARCH"
            ? ["GEOSEARCHSTORE", "dst", .. query[1..], .. distances ? new[] { "STOREDIST" } : []]
            : [.. query, distances ? "STOREDIST" : "STORE", "dst"];
        return [store, ["ZRANGE", "dst", "0", "-1", "WITHSCORES"], ["OBJECT", "ENCODING", "dst"]];
    }
}
