using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

// KEYS results recorded from Redis 7.0.15 on the key set below (byte strings, written here as Latin-1).
[Trait("Category", "Unit")]
public class GlobPatternTests
{
    private static readonly string[] Keys =
    [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "Hello", "user:1", "user:2", "user:10", "user:a", "a*b", "a?b", "a[b", "a]b", "a\\b", "a-b", "ab", "b", "^", "]", "-", "x\u00e9y", "x\u007fy", "aaaab", "foo.bar", "z"
    ];

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    [Theory]
    [InlineData("h?llo", new[] { "hallo", "hello", "hxllo" })]
    [InlineData("h*llo", new[] { "hallo", "heeeello", "hello", "hllo", "hxllo" })]
    [InlineData("h[ae]llo", new[] { "hallo", "hello" })]
    [InlineData("h[^e]llo", new[] { "hallo", "hxllo" })]
    [InlineData("h[a-b]llo", new[] { "hallo" })]
    [InlineData("h[b-a]llo", new[] { "hallo" })]
    [InlineData("user:?", new[] { "user:1", "user:2", "user:a" })]
    [InlineData("user:*", new[] { "user:1", "user:10", "user:2", "user:a" })]
    [InlineData("user:[0-9]", new[] { "user:1", "user:2" })]
    [InlineData("user:[0-9]*", new[] { "user:1", "user:10", "user:2" })]
    [InlineData("user:[^0-9]", new[] { "user:a" })]
    [InlineData("**", new[] { "-", "Hello", "]", "^", "a*b", "a-b", "a?b", "a[b", "a\\b", "a]b", "aaaab", "ab", "b", "foo.bar", "hallo", "heeeello", "hello", "hllo", "hxllo", "user:1", "user:10", "user:2", "user:a", "x\u007fy", "x\u00e9y", "z" })]
    [InlineData("?", new[] { "-", "]", "^", "b", "z" })]
    [InlineData("??", new[] { "ab" })]
    [InlineData("a\\*b", new[] { "a*b" })]
    [InlineData("a\\?b", new[] { "a?b" })]
    [InlineData("a\\[b", new[] { "a[b" })]
    [InlineData("a\\]b", new[] { "a]b" })]
    [InlineData("a\\\\b", new[] { "a\\b" })]
    [InlineData("a[*]b", new[] { "a*b" })]
    [InlineData("a[\\]]b", new[] { "a]b" })]
    [InlineData("a[]]b", new string[0])]
    [InlineData("a[-]b", new[] { "a-b" })]
    [InlineData("a[a-]b", new[] { "ab" })]
    [InlineData("a[\\-]b", new[] { "a-b" })]
    [InlineData("a[", new string[0])]
    [InlineData("a[b", new[] { "ab" })]
    [InlineData("a[^", new[] { "ab" })]
    [InlineData("[", new string[0])]
    [InlineData("[^", new[] { "-", "]", "^", "b", "z" })]
    [InlineData("]", new[] { "]" })]
    [InlineData("^", new[] { "^" })]
    [InlineData("-", new[] { "-" })]
    [InlineData("[\\^]", new[] { "^" })]
    [InlineData("[]]", new string[0])]
    [InlineData("*b", new[] { "a*b", "a-b", "a?b", "a[b", "a\\b", "a]b", "aaaab", "ab", "b" })]
    [InlineData("*a*a*b", new[] { "aaaab" })]
    [InlineData("a*", new[] { "a*b", "a-b", "a?b", "a[b", "a\\b", "a]b", "aaaab", "ab" })]
    [InlineData("*[^a-z]*", new[] { "-", "Hello", "]", "^", "a*b", "a-b", "a?b", "a[b", "a\\b", "a]b", "foo.bar", "user:1", "user:10", "user:2", "user:a", "x\u007fy", "x\u00e9y" })]
    [InlineData("x[\u00e0-\u00f0]y", new[] { "x\u00e9y" })]
    [InlineData("x[a-\u00e9]y", new[] { "x\u00e9y" })]
    [InlineData("x[\u007f-\u0080]y", new[] { "x\u007fy", "x\u00e9y" })]
    [InlineData("x?y", new[] { "x\u007fy", "x\u00e9y" })]
    [InlineData("hello\\", new string[0])]
    [InlineData("\\h*", new[] { "hallo", "heeeello", "hello", "hllo", "hxllo" })]
    [InlineData("H*", new[] { "Hello" })]
    [InlineData("h*", new[] { "hallo", "heeeello", "hello", "hllo", "hxllo" })]
    [InlineData("[Hh]ello", new[] { "Hello", "hello" })]
    [InlineData("*.*", new[] { "foo.bar" })]
    [InlineData("foo[.]bar", new[] { "foo.bar" })]
    [InlineData("[a-z]", new[] { "b", "z" })]
    [InlineData("[z-a]", new[] { "b", "z" })]
    [InlineData("*o", new[] { "Hello", "hallo", "heeeello", "hello", "hllo", "hxllo" })]
    [InlineData("h*l*o", new[] { "hallo", "heeeello", "hello", "hllo", "hxllo" })]
    [InlineData("h**o", new[] { "hallo", "heeeello", "hello", "hllo", "hxllo" })]
    [InlineData("a*b*", new[] { "a*b", "a-b", "a?b", "a[b", "a\\b", "a]b", "aaaab", "ab" })]
    [InlineData("[!a]b", new[] { "ab" })]
    [InlineData("", new string[0])]
    public void Match_SelectsTheSameKeysAsRedisKeys(string pattern, string[] expected)
    {
        var actual = Keys.Where(key => GlobPattern.Match(Bytes(pattern), Bytes(key))).Order(StringComparer.Ordinal);
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual);
    }

    [Theory]
    [InlineData("", "", true)]
    [InlineData("*", "", false)]
    [InlineData("?", "", false)]
    [InlineData("a*", "a", true)]
    [InlineData("a**", "a", true)]
    [InlineData("a*b", "a", false)]
    [InlineData("a\\", "a\\", true)]
    public void Match_HandlesEmptyTextAndTrailingTokens(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, GlobPattern.Match(Bytes(pattern), Bytes(text)));
    }

    [Theory]
    [InlineData("HELLO", "hello", true)]
    [InlineData("h[A-Z]llo", "hello", true)]
    [InlineData("h[E]llo", "hello", true)]
    [InlineData("h[\\E]llo", "hello", false)]
    [InlineData("\\Hello", "hello", true)]
    [InlineData("h?LLO", "hello", true)]
    [InlineData("x\u00c9y", "x\u00e9y", false)]
    public void Match_IgnoreCaseFoldsOnlyAsciiLettersAndNotEscapedClassMembers(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, GlobPattern.Match(Bytes(pattern), Bytes(text), ignoreCase: true));
    }

    // Redis 7.0.15 gives up past 1000 nested '*' (KEYS checked with these exact shapes).
    [Theory]
    [InlineData(1000, "", 1000, "", true)]
    [InlineData(1001, "", 1001, "", false)]
    [InlineData(1000, "*", 1000, "b", true)]
    [InlineData(1000, "*b", 1000, "b", false)]
    [InlineData(999, "*?b", 1000, "b", true)]
    public void Match_AppliesRedisStarNestingLimit(int starGroups, string patternTail, int textAs, string textTail, bool expected)
    {
        var pattern = string.Concat(Enumerable.Repeat("*a", starGroups)) + patternTail;
        var text = new string('a', textAs) + textTail;
        Assert.Equal(expected, GlobPattern.Match(Bytes(pattern), Bytes(text)));
    }

    [Fact]
    public void Match_DoesNotBacktrackExponentially()
    {
        var pattern = Bytes(string.Concat(Enumerable.Repeat("*a", 40)) + "*b");
        var text = Bytes(new string('a', 20_000));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(GlobPattern.Match(pattern, text));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }
}
