using MiniRedis.Data;
using Xunit;

namespace MiniRedis.Tests.Data;

/// <summary>The string arena's slots: one per key and value, of their size class, handed out again once freed.</summary>
[Trait("Category", "Unit")]
public class StringArenaTests
{
    [Fact]
    public void Slots_of_live_values_never_overlap_and_a_freed_slot_serves_the_same_size_class_again()
    {
        var handles = new List<(uint Handle, int Offset, int Length, byte Fill)>();
        // Every length up to the longest, short ones (length in the entry) and long ones (length in the slot),
        // after a key of 0 to 19 bytes in the same slot.
        for (int i = 0; i < 6000; i++)
        {
            int offset = i % 20;
            int length = 1 + i * 7 % (StringArena.LongestValue - offset);
            int bytes = offset + StringArena.Stored(length);
            Assert.True(StringArena.Fits(bytes));
            uint handle = StringArena.Allocate(bytes);
            StringArena.Bytes(handle, offset).Fill((byte)~i);
            byte code = StringArena.Write(handle, offset, Enumerable.Repeat((byte)i, length).ToArray());
            Assert.Equal(StringArena.CodeOf(length), code);
            handles.Add((handle, offset, length, (byte)i));
        }
        foreach (var (handle, offset, length, fill) in handles)
        {
            var value = StringArena.Value(handle, offset, StringArena.CodeOf(length));
            Assert.Equal(length, value.Length);
            Assert.True(value.IndexOfAnyExcept(fill) < 0);
            Assert.True(StringArena.Bytes(handle, offset).IndexOfAnyExcept((byte)~fill) < 0);
        }

        var (freed, freedOffset, freedLength, _) = handles[5];
        int freedBytes = freedOffset + StringArena.Stored(freedLength);
        StringArena.Free(freed, freedBytes);
        // Another test may take the freed slot first; a slot of this class is never one still in use here.
        uint reused = StringArena.Allocate(freedBytes + 1);
        Assert.DoesNotContain(handles.Skip(6), h => h.Handle == reused);
        Assert.True(StringArena.SameClass(freedBytes, freedBytes + 1));
        Assert.False(StringArena.SameClass(8, 9));
        Assert.False(StringArena.SameClass(0, 1));
        Assert.True(StringArena.SameClass(449, 512));
        Assert.False(StringArena.SameClass(512, 513));
        // A 500-byte value (a length prefix) and a 9-byte key share one 512-byte slot.
        Assert.True(StringArena.SameClass(9 + StringArena.Stored(500), 512));
        Assert.False(StringArena.Fits(StringArena.LargestSlot + 1));
        foreach (var (handle, offset, length, _) in handles.Where(h => h.Handle != freed)) StringArena.Free(handle, offset + StringArena.Stored(length));
        StringArena.Free(reused, freedBytes + 1);
    }
}
