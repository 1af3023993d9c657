using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

/// <summary>The ring-buffer deque behind lists, checked against a plain List model across wrap-arounds and resizes.</summary>
[Trait("Category", "Unit")]
public sealed class ListValueTests
{
    static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    static string[] Contents(ListValue list)
    {
        var (first, second) = list.Range(0, list.Count);
        return [.. first.ToArray().Concat(second.ToArray()).Select(Encoding.ASCII.GetString)];
    }

    [Fact]
    public void Pushes_at_both_ends_keep_order_across_the_ring_edge()
    {
        var list = new ListValue();
        list.Push(B("b"), head: true);
        list.Push(B("a"), head: true);
        list.Push(B("c"), head: false);
        list.Push(B("d"), head: false);
        list.Push(B("e"), head: false);
        Assert.Equal(["a", "b", "c", "d", "e"], Contents(list));
        Assert.Equal("a", Encoding.ASCII.GetString(list.Pop(head: true)));
        Assert.Equal("e", Encoding.ASCII.GetString(list.Pop(head: false)));
        Assert.Equal(["b", "c", "d"], Contents(list));
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
        list[0][0] = (byte)'y';
        Assert.Equal(["x"], Contents(copy));
    }

    [Fact]
    public void Random_operations_match_a_list_model()
    {
        var random = new Random(1234);
        var list = new ListValue();
        var model = new List<string>();
        for (int step = 0; step < 20_000; step++)
        {
            string value = random.Next(8).ToString();
            switch (random.Next(7))
            {
                case 0:
                    list.Push(B(value), head: true);
                    model.Insert(0, value);
                    break;
                case 1:
                    list.Push(B(value), head: false);
                    model.Add(value);
                    break;
                case 2 when model.Count > 0:
                    bool head = random.Next(2) == 0;
                    Assert.Equal(head ? model[0] : model[^1], Encoding.ASCII.GetString(list.Pop(head)));
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
                    Assert.Equal(model[index], Encoding.ASCII.GetString(list[index]));
                    Assert.Equal(model.IndexOf(value), list.IndexOf(B(value)));
                    break;
            }
            Assert.Equal(model.Count, list.Count);
        }
        Assert.Equal(model, Contents(list));
    }
}
