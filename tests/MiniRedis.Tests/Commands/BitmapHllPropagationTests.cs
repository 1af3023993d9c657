using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// What bitmap and HyperLogLog commands hand to the AOF/replication stream: themselves, and only when they
/// changed the string. Expected records are what a real Redis 7.0.15 wrote to its AOF for the same commands.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BitmapHllPropagationTests : IDisposable
{
    readonly PropagationRecorder _recorder = new();

    public void Dispose() => _recorder.Dispose();

    List<string> Logged(string command) => _recorder.Logged(command);

    [Fact]
    public void Setbit_is_logged_only_when_the_bit_or_the_length_changes()
    {
        Assert.Equal(["0: setbit k 1 1"], Logged("setbit k 1 1"));
        Assert.Empty(Logged("setbit k 1 1"));
        Assert.Empty(Logged("setbit k 2 0"));
        Assert.Equal(["0: setbit k 100 0"], Logged("setbit k 100 0"));
    }

    [Fact]
    public void Bitfield_is_logged_when_a_field_was_written()
    {
        Assert.Empty(Logged("bitfield k get u8 0"));
        Assert.Equal(["0: bitfield k set u8 0 3 overflow fail incrby u8 0 1000"], Logged("bitfield k set u8 0 3 overflow fail incrby u8 0 1000"));
        // Every write refused by FAIL: nothing changed worth logging, even though the string grew.
        Assert.Empty(Logged("bitfield k overflow fail incrby u8 800 1000"));
    }

    [Fact]
    public void Bitop_is_logged_unless_it_had_nothing_to_delete()
    {
        _recorder.Client.Run("set k abc");
        Assert.Empty(Logged("bitop and d nokey"));
        Assert.Equal(["0: bitop or d k"], Logged("bitop or d k"));
        Assert.Equal(["0: bitop and d nokey"], Logged("bitop and d nokey"));
    }

    [Fact]
    public void Pfcount_is_logged_when_it_caches_a_new_count()
    {
        Assert.Equal(["0: pfadd h a b"], Logged("pfadd h a b"));
        Assert.Empty(Logged("pfadd h a"));
        Assert.Equal(["0: pfcount h"], Logged("pfcount h"));
        Assert.Empty(Logged("pfcount h"));
        Assert.Empty(Logged("pfcount h h"));
    }

    [Fact]
    public void Pfdebug_is_logged_when_it_converts_to_dense()
    {
        _recorder.Client.Run("pfadd h a");
        _recorder.Client.Run("pfadd h2 x");
        Assert.Equal(["0: pfdebug todense h"], Logged("pfdebug todense h"));
        Assert.Empty(Logged("pfdebug todense h"));
        Assert.Equal(["0: pfdebug getreg h2"], Logged("pfdebug getreg h2"));
        Assert.Equal(["0: pfmerge m h h2"], Logged("pfmerge m h h2"));
    }
}
