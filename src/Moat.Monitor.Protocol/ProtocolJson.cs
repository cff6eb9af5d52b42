using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Interop;

namespace Moat.Monitor.Protocol;

/// <summary>The serializer for the health record; the files of every container's life go through <see cref="ProtocolCodec"/>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthRecord))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;

/// <summary>Reading and writing the protocol's files: whole or not at all.</summary>
public static class ProtocolFiles
{
    /// <summary>
    /// Writes the file whole (a temporary file renamed over it): a reader, also after a crash of the writer,
    /// sees the old document or the new one. <paramref name="durable"/> adds two fsyncs (the file, then its
    /// directory) so that the new document also survives a power cut. Files that only describe processes
    /// (status, exit, the monitor's configuration, which the engine writes again before every monitor it
    /// starts) do without: a power cut ends those processes, and a file it left torn reads as absent (the
    /// engine then reports what the runtime and the database say).
    /// </summary>
    public static void Write<T>(string path, T value, bool durable = true) where T : class =>
        WriteAtomically(path, ProtocolCodec.Handles(typeof(T)) ? ProtocolCodec.Serialize(value)
            : JsonSerializer.SerializeToUtf8Bytes(value, typeof(T), ProtocolJsonContext.Default), durable);

    /// <summary>The file's document, or null when it does not exist (a torn file cannot exist: writes are atomic).</summary>
    public static T? Read<T>(string path) where T : class
    {
        // open, read, close: `ps` reads one of these per container, and FileStream adds an flock and fstats to each.
        var bytes = Moat.Interop.Libc.TryReadFile(path);
        if (bytes is null)
            return null;
        try
        {
            return ProtocolCodec.Handles(typeof(T)) ? (T)ProtocolCodec.Deserialize(bytes, typeof(T))
                : (T?)JsonSerializer.Deserialize(bytes, typeof(T), ProtocolJsonContext.Default);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid {typeof(T).Name} document: {e.Message}", e);
        }
    }

    /// <summary>One event as its journal line (no newline inside; the caller appends it with one write).</summary>
    public static byte[] EventLine(EngineEvent value)
    {
        var json = ProtocolCodec.Serialize(value);
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }

    /// <summary>One journal line's event; a line that is not one throws JsonException.</summary>
    public static EngineEvent ParseEvent(ReadOnlySpan<byte> line) => (EngineEvent)ProtocolCodec.Deserialize(line, typeof(EngineEvent));

    /// <summary>Appends one event to the journal with a single O_APPEND write (lines from many processes never interleave).</summary>
    public static void AppendEvent(string journal, EngineEvent value)
    {
        var line = EventLine(value);
        using var stream = new FileStream(journal, new FileStreamOptions
        {
            Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        stream.Write(line);
    }

    static void WriteAtomically(string path, ReadOnlySpan<byte> content, bool durable)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                stream.Write(content);
                if (durable)
                    stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        if (!durable)
            return;
        using var dir = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        Libc.fsync(dir.Fd);
    }
}
