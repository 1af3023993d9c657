using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// SRANDMEMBER with a negative count on a hashtable-encoded set draws each member with equal chance,
/// as Redis's own "SRANDMEMBER histogram distribution" test requires: its 10-member set, 1000 draws,
/// a chi-square below 40 (9 degrees of freedom: a uniform draw exceeds 40 about once in 100 000 runs).
/// </summary>
[Trait("Category", "Unit")]
public sealed class SetRandomMemberTests : IDisposable
{
    static readonly string[] Members = ["1", "5", "10", "50", "125", "MARY", "PATRICIA", "LINDA", "BARBARA", "ELIZABETH"];

    readonly RedisServer _server = InProcessClient.StartServer();
    readonly InProcessClient _client;

    public SetRandomMemberTests() => _client = new InProcessClient(_server);

    public void Dispose() => _server.Stop();

    /// <summary>The test suite's chi_square_value: the expected count per member is the integer mean.</summary>
    static double ChiSquare(IReadOnlyCollection<string> draws)
    {
        var counts = draws.GroupBy(d => d).Select(g => g.Count()).ToList();
        long expected = draws.Count / counts.Count;
        return counts.Sum(c => Math.Pow(c - expected, 2) / expected);
    }

    /// <summary>The members of an array reply of bulk strings (none of ours holds CR or LF).</summary>
    List<string> Draw(string command)
    {
        var lines = _client.Run(command).Split("\r\n");
        Assert.StartsWith("*", lines[0], StringComparison.Ordinal);
        return lines.Skip(2).Where((_, i) => i % 2 == 0).Take(int.Parse(lines[0][1..])).ToList();
    }

    [Fact]
    public void Negative_count_draws_every_member_of_a_hashtable_set_evenly()
    {
        _client.Run("SADD myset " + string.Join(' ', Members));
        Assert.Equal("$9\r\nhashtable\r\n", _client.Run("OBJECT ENCODING myset"));
        var draws = Draw("SRANDMEMBER myset -1000");
        Assert.Equal(1000, draws.Count);
        Assert.Equal(Members.Order(StringComparer.Ordinal), draws.Distinct().Order(StringComparer.Ordinal));
        Assert.InRange(ChiSquare(draws), 0, 40);
    }
}
