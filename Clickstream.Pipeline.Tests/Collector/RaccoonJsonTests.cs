using System.Buffers;
using System.Text;
using Clickstream.Raccoon;
using Clickstream.Samples;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Clickstream.Pipeline.Tests.Collector;

public class RaccoonJsonTests
{
    [Test]
    public void WriteRequest_full_request_matches_go_encoding_json()
    {
        var request = new SendEventRequest
        {
            ReqGuid = "r-1",
            SentTime = new Timestamp { Seconds = 1_790_000_000, Nanos = 5 },
            Events = { new Event { EventBytes = ByteString.CopyFrom(1, 2, 3), Type = "pageview" } },
        };

        Assert.That(
            WriteRequest(request),
            Is.EqualTo("""{"req_guid":"r-1","sent_time":{"seconds":1790000000,"nanos":5},"events":[{"event_bytes":"AQID","type":"pageview"}]}"""));
    }

    [Test]
    public void WriteRequest_empty_fields_are_omitted_like_go_omitempty()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(WriteRequest(new SendEventRequest()), Is.EqualTo("{}"));
            Assert.That(
                WriteRequest(new SendEventRequest { SentTime = new Timestamp(), Events = { new Event { Type = "t" } } }),
                Is.EqualTo("""{"sent_time":{},"events":[{"type":"t"}]}"""));
        }
    }

    [Test]
    public void WriteRequest_goto_fork_fields_use_their_go_keys()
    {
        var request = new SendEventRequest
        {
            Events =
            {
                new Event
                {
                    Type = "t",
                    EventName = "n",
                    Product = "p",
                    EventTimestamp = new Timestamp { Seconds = 7 },
                    IsExclusive = true,
                    AppVersion = "1.2",
                    Platform = Platform.Ios,
                },
            },
        };

        Assert.That(
            WriteRequest(request),
            Is.EqualTo("""{"events":[{"type":"t","event_name":"n","product":"p","event_timestamp":{"seconds":7},"is_exclusive":true,"app_version":"1.2","platform":2}]}"""));
    }

    [Test]
    public void WriteResponse_success_matches_raccoon_body()
    {
        var response = new SendEventResponse
        {
            Status = Status.Success,
            Code = Code.Ok,
            SentTime = 1_790_000_001,
            Data = { { "req_guid", "r-1" } },
        };

        Assert.That(WriteResponse(response), Is.EqualTo("""{"status":1,"code":1,"sent_time":1790000001,"data":{"req_guid":"r-1"}}"""));
    }

    [Test]
    public void WriteResponse_error_has_reason_and_sorted_data()
    {
        var response = new SendEventResponse
        {
            Status = Status.Error,
            Code = Code.InternalError,
            SentTime = 1,
            Reason = "cannot publish events: x",
            Data = { { "zeta", "z" }, { "req_guid", "r" }, { "alpha", "a" } },
        };

        Assert.That(
            WriteResponse(response),
            Is.EqualTo("""{"status":2,"code":3,"sent_time":1,"reason":"cannot publish events: x","data":{"alpha":"a","req_guid":"r","zeta":"z"}}"""));
    }

    [Test]
    public void Request_round_trip_keeps_bytes_types_and_timestamps()
    {
        byte[] everyByte = new byte[256];
        for (int i = 0; i < everyByte.Length; i++)
        {
            everyByte[i] = (byte)i;
        }

        var request = new SendEventRequest
        {
            ReqGuid = "5f0c7a2e-1d7b-4b1e-9a51-0c8e8f1f2a3b",
            SentTime = new Timestamp { Seconds = 1_790_000_000, Nanos = 999_999_999 },
            Events =
            {
                new Event { EventBytes = SampleEvents.PageView(1).ToByteString(), Type = "pageview" },
                new Event { EventBytes = ByteString.CopyFrom(everyByte), Type = "group-click \"quoted\" <é>" },
                new Event { Type = "empty" },
                new Event
                {
                    EventBytes = SampleEvents.Purchase(3).ToByteString(),
                    Type = "purchase",
                    EventName = "Purchase",
                    Product = "shop",
                    EventTimestamp = new Timestamp { Seconds = -1, Nanos = 1 },
                    IsExclusive = true,
                    AppVersion = "4.5.6",
                    Platform = Platform.Flutter,
                },
            },
        };

        SendEventRequest read = RaccoonJson.ReadRequest(Encoding.UTF8.GetBytes(WriteRequest(request)));

        Assert.That(read, Is.EqualTo(request));
    }

    [Test]
    public void Response_round_trip_keeps_every_field()
    {
        var response = new SendEventResponse
        {
            Status = Status.Error,
            Code = Code.MaxUserLimitReached,
            SentTime = long.MaxValue,
            Reason = "already connected",
            Data = { { "req_guid", "r-9" }, { "other", "" } },
        };

        SendEventResponse read = RaccoonJson.ReadResponse(Encoding.UTF8.GetBytes(WriteResponse(response)));

        Assert.That(read, Is.EqualTo(response));
    }

    [Test]
    public void ReadRequest_unknown_keys_and_nulls_are_ignored_like_go()
    {
        const string json = """
            {"extra":{"deep":[1,2,{"x":null}]},"req_guid":"a","sent_time":null,
             "events":[{"unknown":true,"type":"t","event_bytes":null,"event_timestamp":{"seconds":3,"other":"x"}}],
             "req_guid2":"ignored"}
            """;

        SendEventRequest read = RaccoonJson.ReadRequest(Encoding.UTF8.GetBytes(json));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.ReqGuid, Is.EqualTo("a"));
            Assert.That(read.SentTime, Is.Null);
            Assert.That(read.Events, Has.Count.EqualTo(1));
            Assert.That(read.Events[0].Type, Is.EqualTo("t"));
            Assert.That(read.Events[0].EventBytes.IsEmpty, Is.True);
            Assert.That(read.Events[0].EventTimestamp.Seconds, Is.EqualTo(3));
        }
    }

    [Test]
    public void ReadRequest_keys_match_case_insensitively_and_unescaped_like_go()
    {
        const string json = """{"REQ_GUID":"a","Sent_Time":{"SECONDS":9},"Events":[{"Type":"t","EVENT_BYTES":"AQ=="}],"req\u005fguid":"b"}""";

        SendEventRequest read = RaccoonJson.ReadRequest(Encoding.UTF8.GetBytes(json));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.ReqGuid, Is.EqualTo("b"), "a repeated key wins last");
            Assert.That(read.SentTime.Seconds, Is.EqualTo(9));
            Assert.That(read.Events[0].Type, Is.EqualTo("t"));
            Assert.That(read.Events[0].EventBytes.ToByteArray(), Is.EqualTo(new byte[] { 1 }));
        }
    }

    [Test]
    public void ReadRequest_top_level_null_is_an_empty_request()
    {
        Assert.That(RaccoonJson.ReadRequest(" null "u8), Is.EqualTo(new SendEventRequest()));
    }

    [Test]
    public void ReadRequest_sequence_in_many_segments_reads_like_a_span()
    {
        SendEventRequest request = CollectorTestKit.Batch("seq", pageViews: 20, clicks: 5);
        byte[] json = CollectorTestKit.ToJson(request);

        SendEventRequest read = RaccoonJson.ReadRequest(Segmented(json, segmentLength: 7));

        Assert.That(read, Is.EqualTo(request));
    }

    [TestCase("", TestName = "ReadRequest_empty_body_throws_FormatException")]
    [TestCase("   ", TestName = "ReadRequest_whitespace_body_throws_FormatException")]
    [TestCase("}{}", TestName = "ReadRequest_broken_syntax_throws_FormatException")]
    [TestCase("[]", TestName = "ReadRequest_array_throws_FormatException")]
    [TestCase("\"x\"", TestName = "ReadRequest_string_throws_FormatException")]
    [TestCase("""{"req_guid":1}""", TestName = "ReadRequest_number_for_string_throws_FormatException")]
    [TestCase("""{"events":{}}""", TestName = "ReadRequest_object_for_events_throws_FormatException")]
    [TestCase("""{"events":[null]}""", TestName = "ReadRequest_null_event_throws_FormatException")]
    [TestCase("""{"events":[{"event_bytes":"not base64!"}]}""", TestName = "ReadRequest_bad_base64_throws_FormatException")]
    [TestCase("""{"events":[{"event_bytes":"AQ"}]}""", TestName = "ReadRequest_unpadded_base64_throws_FormatException")]
    [TestCase("""{"sent_time":{"seconds":1.5}}""", TestName = "ReadRequest_fractional_seconds_throws_FormatException")]
    [TestCase("""{"sent_time":{"nanos":3000000000}}""", TestName = "ReadRequest_nanos_out_of_int32_throws_FormatException")]
    [TestCase("""{"sent_time":"2026-01-01T00:00:00Z"}""", TestName = "ReadRequest_rfc3339_sent_time_throws_FormatException")]
    [TestCase("""{"req_guid":"a"} x""", TestName = "ReadRequest_trailing_content_throws_FormatException")]
    [TestCase("""{"req_guid":"a",}""", TestName = "ReadRequest_trailing_comma_throws_FormatException")]
    [TestCase("""{/* c */}""", TestName = "ReadRequest_comment_throws_FormatException")]
    [TestCase("""{"req_guid":"a" """, TestName = "ReadRequest_truncated_body_throws_FormatException")]
    public void ReadRequest_malformed_input_throws_FormatException(string json)
    {
        Assert.That(
            () => RaccoonJson.ReadRequest(Encoding.UTF8.GetBytes(json)),
            Throws.InstanceOf<FormatException>().With.Message.StartsWith("Invalid Raccoon JSON request"));
    }

    [Test]
    public void ReadResponse_raccoon_error_body_is_read()
    {
        SendEventResponse read = RaccoonJson.ReadResponse("""{"status":2,"code":2,"sent_time":1790000000,"reason":"invalid content type"}"""u8);

        Assert.That(read, Is.EqualTo(new SendEventResponse
        {
            Status = Status.Error,
            Code = Code.BadRequest,
            SentTime = 1_790_000_000,
            Reason = "invalid content type",
        }));
    }

    [TestCase("""{"status":"STATUS_SUCCESS"}""", TestName = "ReadResponse_enum_name_throws_FormatException")]
    [TestCase("""{"data":{"req_guid":1}}""", TestName = "ReadResponse_number_in_data_throws_FormatException")]
    [TestCase("""{"sent_time":"1"}""", TestName = "ReadResponse_quoted_sent_time_throws_FormatException")]
    [TestCase("", TestName = "ReadResponse_empty_body_throws_FormatException")]
    public void ReadResponse_malformed_input_throws_FormatException(string json)
    {
        Assert.That(
            () => RaccoonJson.ReadResponse(Encoding.UTF8.GetBytes(json)),
            Throws.InstanceOf<FormatException>().With.Message.StartsWith("Invalid Raccoon JSON response"));
    }

    private static string WriteRequest(SendEventRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RaccoonJson.WriteRequest(request, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string WriteResponse(SendEventResponse response)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RaccoonJson.WriteResponse(response, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static ReadOnlySequence<byte> Segmented(byte[] data, int segmentLength)
    {
        var first = new Segment(data.AsMemory(0, Math.Min(segmentLength, data.Length)), 0);
        Segment last = first;
        for (int offset = segmentLength; offset < data.Length; offset += segmentLength)
        {
            last = last.Append(data.AsMemory(offset, Math.Min(segmentLength, data.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
