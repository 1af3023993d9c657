using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Protocol;

[Trait("Category", "Unit")]
public sealed class ArgSplitterTests
{
    static string[] Split(string line)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        Assert.True(ArgSplitter.Split(Encoding.Latin1.GetBytes(line), batch));
        var args = batch[0];
        return Enumerable.Range(0, args.Count).Select(i => Encoding.Latin1.GetString(args[i])).ToArray();
    }

    [Theory]
    [InlineData("\0", new string[0])]
    [InlineData("a\0b c", new[] { "a" })]
    [InlineData("set k\0 v", new[] { "set", "k" })]
    [InlineData("\"a\"\0b", new[] { "a" })]
    public void Line_ends_at_its_first_NUL_as_in_C(string line, string[] expected)
    {
        Assert.Equal(expected, Split(line));
    }
}
