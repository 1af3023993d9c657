using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

/// <summary>The chunked deque behind lists, checked against a plain List model across chunk growth, splits and drains.</summary>
[Trait("Category", "Unit")]
public sealed class ListValueTests
{
    static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    static string S(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);

    static List<string> Contents(ListValue list, bool reverse = false)
    {
        var items = new List<string>();
        var cursor = list.At(reverse ? list.Count - 1 : 0, reverse);
        for (int i = 0; i < list.Count; i++, cursor.Advance()) items.Add(S(cursor.Current));
        if (reverse) items.Reverse();
        return items;
    }

    [Fact]
    public void Pushes_at_both_ends_keep_order()
    {
        var list = new ListValue();
        list.Push(B("b"), head: true);
        list.Push(B("a"), head: true);
        list.Push(B("c"), head: false);
        list.Push(B("d"), head: false);
        list.Push(B("e"), head: false);
        Assert.Equal(["a", "b", "c", "d", "e"], Contents(list));
        Assert.Equal("a", S(list.Pop(head: true)));
        Assert.Equal("e", S(list.Pop(head: false)));
        Assert.Equal(["b", "c", "d"], Contents(list));
        Assert.Equal(["b", "c", "d"], Contents(list, reverse: true));
    }

    [Fact]
    public void Remove_honours_direction_and_limit()
    {
        var list = new ListValue();
        foreach (var s in "a b a c a".Split(' ')) list.Push(B(s), head: false);
        Assert.Equal(1, list.Remove(B("a"), 1, fromTail: true));
        Assert.Equal(["a", "b", "a", "c"], Contents(list));
        Assert.Equal(2, list.Remove(B("a"), long.MinValue, fromTail: true));
        Assert.Equal(["b", "c"], Contents(list));
    }

    [Fact]
    public void Deep_copy_shares_nothing()
    {
        var list = new ListValue();
        list.Push(B("x"), head: false);
        var copy = (ListValue)list.DeepCopy();
        list.Set(0, B("y"));
        list.Push(B("z"), head: true);
        Assert.Equal(["x"], Contents(copy));
        copy.Push(B("w"), head: false);
        Assert.Equal(["x", "w"], Contents(copy));
    }

    [Fact]
    public void Elements_of_every_length_class_survive_many_chunks()
    {
        var list = new ListValue();
        var model = new List<string>();
        foreach (int length in new[] { 0, 1, 254, 255, 256, 5000, 9000, 20_000, 3 })
        {
            for (int i = 0; i < 40; i++)
            {
                string value = new((char)('a' + i % 26), length);
                bool head = i % 3 == 0;
                list.Push(B(value), head);
                if (head) model.Insert(0, value);
                else model.Add(value);
            }
        }
        Assert.Equal(model, Contents(list));
        Assert.Equal(model, Contents(list, reverse: true));
        for (int i = 0; i < model.Count; i += 7) Assert.Equal(model[i], S(list[i]));
        while (model.Count > 0)
        {
            bool head = model.Count % 2 == 0;
            Assert.Equal(head ? model[0] : model[^1], S(list.Pop(head)));
            model.RemoveAt(head ? 0 : model.Count - 1);
        }
        Assert.Equal(0, list.Count);
        list.Push(B("again"), head: true);
        Assert.Equal(["again"], Contents(list));
    }

    [Fact]
    public void Entry_bytes_follow_the_elements()
    {
        var list = new ListValue();
        list.Push(B("12"), head: false);
        list.Push(B("hello"), head: true);
        list.Insert(1, B(new string('x', 100)));
        list.Set(0, B("1"));
        long expected = new ListpackValue(B("1")).EntrySize + new ListpackValue(B(new string('x', 100))).EntrySize + new ListpackValue(B("12")).EntrySize;
        Assert.Equal(expected, list.EntryBytes);
        list.Trim(1, 1);
        Assert.Equal(new ListpackValue(B(new string('x', 100))).EntrySize, list.EntryBytes);
    }

    [Theory]
    [InlineData(1234, 8)]
    [InlineData(99, 600)]
    public void Random_operations_match_a_list_model(int seed, int maxLength)
    {
        var random = new Random(seed);
        var list = new ListValue();
        var model = new List<string>();
        for (int step = 0; step < 20_000; step++)
        {
            string value = random.Next(8) + new string('v', random.Next(maxLength));
            if (maxLength > 8) value = value[..Math.Min(value.Length, random.Next(2) == 0 ? 2 : maxLength)];
            switch (random.Next(9))
            {
                case 0:
                case 7:
                    list.Push(B(value), head: true);
                    model.Insert(0, value);
                    break;
                case 1:
                case 8:
                    list.Push(B(value), head: false);
                    model.Add(value);
                    break;
                case 2 when model.Count > 0:
                    bool head = random.Next(2) == 0;
                    Assert.Equal(head ? model[0] : model[^1], S(list.Pop(head)));
                    model.RemoveAt(head ? 0 : model.Count - 1);
                    break;
                case 3:
                    int at = random.Next(model.Count + 1);
                    list.Insert(at, B(value));
                    model.Insert(at, value);
                    break;
                case 4:
                    long limit = random.Next(-2, 3);
                    int removed = list.Remove(B(value), Math.Abs(limit), fromTail: limit < 0);
                    int expected = 0;
                    for (int i = limit < 0 ? model.Count - 1 : 0; i >= 0 && i < model.Count && (limit == 0 || expected < Math.Abs(limit));)
                    {
                        if (model[i] == value)
                        {
                            model.RemoveAt(i);
                            expected++;
                            if (limit < 0) i--;
                        }
                        else i += limit < 0 ? -1 : 1;
                    }
                    Assert.Equal(expected, removed);
                    break;
                case 5 when model.Count > 0 && random.Next(20) == 0:
                    int fromHead = random.Next(model.Count + 1);
                    int fromTail = random.Next(model.Count - fromHead + 1);
                    list.Trim(fromHead, fromTail);
                    model.RemoveRange(model.Count - fromTail, fromTail);
                    model.RemoveRange(0, fromHead);
                    break;
                case 6 when model.Count > 0:
                    int index = random.Next(model.Count);
                    Assert.Equal(model[index], S(list[index]));
                    Assert.Equal(model.IndexOf(value), list.IndexOf(B(value)));
                    list.Set(index, B(value));
                    model[index] = value;
                    break;
            }
            Assert.Equal(model.Count, list.Count);
        }
        Assert.Equal(model, Contents(list));
        Assert.Equal(model, Contents(list, reverse: true));
    }
}
