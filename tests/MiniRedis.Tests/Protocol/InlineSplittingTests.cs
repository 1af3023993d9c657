using System.Buffers;
using System.Text;
using MiniRedis.Protocol;
using MiniRedis.Tests.Differential;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Protocol;

/// <summary>The server's inline splitting and the tests' independent sdssplitargs agree on every corpus line.</summary>
[Trait("Category", "Differential")]
public sealed class InlineSplittingTests
{
    [Theory]
    [MemberData(nameof(DifferentialTests.CorpusFiles), MemberType = typeof(DifferentialTests))]
    public void Server_splits_corpus_lines_like_the_test_splitter(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Differential", "corpus", file);
        foreach (var line in CorpusLine.Read(path))
        {
            var command = line.Comparison == Comparison.Exact ? line.Text : line.Text[(line.Text.IndexOf(' ') + 1)..];
            var batch = new CommandBatch();
            RespParser.Parse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(command + "\r\n")), batch, new ParseLimits(1 << 20, 1 << 20, Unauthenticated: false));
            Assert.Null(batch.ProtocolError);
            var parsed = batch.Count == 0 ? [] : Enumerable.Range(0, batch[0].Count).Select(i => RespConnection.Escape(batch[0][i])).ToList();
            Assert.Equal(line.Args.Select(a => RespConnection.Escape(a)).ToList(), parsed);
        }
    }

    [Theory]
    [InlineData("a \"b c\"d")]
    [InlineData("a 'b")]
    [InlineData("\"\\x4")]
    public void Both_reject_unbalanced_quotes(string line)
    {
        Assert.Throws<FormatException>(() => CommandLine.Split(line));
        var batch = new CommandBatch();
        RespParser.Parse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line + "\r\n")), batch, new ParseLimits(1 << 20, 1 << 20, Unauthenticated: false));
        Assert.Equal("Protocol error: unbalanced quotes in request", batch.ProtocolError);
    }
}
