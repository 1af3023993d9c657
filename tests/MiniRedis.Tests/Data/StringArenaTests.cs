using MiniRedis.Data;
using Xunit;

namespace MiniRedis.Tests.Data;

/// <summary>The string arena's slots: one per value, of its size class, handed out again once freed.</summary>
[Trait("Category", "Unit")]
public class StringArenaTests
{
    [Fact]
    public void Slots_of_live_values_never_overlap_and_a_freed_slot_serves_the_same_size_class_again()
    {
        var handles = new List<(uint Handle, int Length, byte Fill)>();
        // Every length up to the longest, short ones (length in the entry) and long ones (length in the slot).
        for (int i = 0; i < 6000; i++)
        {
            int length = 1 + i * 7 % StringArena.LongestValue;
            uint handle = StringArena.Allocate(length);
            byte code = StringArena.Write(handle, Enumerable.Repeat((byte)i, length).ToArray());
            Assert.Equal(StringArena.CodeOf(length), code);
            handles.Add((handle, length, (byte)i));
        }
        foreach (var (handle, length, fill) in handles)
        {
            var value = StringArena.Value(handle, StringArena.CodeOf(length));
            Assert.Equal(length, value.Length);
            Assert.True(value.IndexOfAnyExcept(fill) < 0);
        }

        var (freed, freedLength, _) = handles[5];
        StringArena.Free(freed, freedLength);
        // Another test may take the freed slot first; a slot of this class is never one still in use here.
        uint reused = StringArena.Allocate(freedLength - 1);
        Assert.DoesNotContain(handles.Skip(6), h => h.Handle == reused);
        Assert.True(StringArena.SameClass(freedLength, freedLength - 1));
        Assert.False(StringArena.SameClass(8, 9));
        Assert.False(StringArena.SameClass(0, 1));
        Assert.True(StringArena.SameClass(449, 510));
        Assert.False(StringArena.SameClass(510, 511));
        // A value with its length in the entry never shares a class with one whose length is in the slot.
        Assert.False(StringArena.SameClass(StringArena.PrefixedLength - 1, StringArena.PrefixedLength));
        foreach (var (handle, length, _) in handles.Where(h => h.Handle != freed)) StringArena.Free(handle, length);
        StringArena.Free(reused, freedLength - 1);
    }
}
