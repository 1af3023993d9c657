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
        for (int i = 0; i < 3000; i++)
        {
            int length = 1 + i % KeyEntry.InlineLimit;
            uint handle = StringArena.Allocate(length);
            StringArena.Slot(handle, length).Fill((byte)i);
            handles.Add((handle, length, (byte)i));
        }
        foreach (var (handle, length, fill) in handles)
            Assert.True(StringArena.Slot(handle, length).IndexOfAnyExcept(fill) < 0);

        var (freed, freedLength, _) = handles[5];
        StringArena.Free(freed, freedLength);
        // Another test may take the freed slot first; a slot of this class is never one still in use here.
        uint reused = StringArena.Allocate(freedLength - 1);
        Assert.DoesNotContain(handles.Skip(6), h => h.Handle == reused);
        Assert.True(StringArena.SameClass(freedLength, freedLength - 1));
        Assert.False(StringArena.SameClass(8, 9));
        Assert.False(StringArena.SameClass(0, 1));
        foreach (var (handle, length, _) in handles.Where(h => h.Handle != freed)) StringArena.Free(handle, length);
        StringArena.Free(reused, freedLength - 1);
    }
}
