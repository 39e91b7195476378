using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using TorchSharp;

namespace TacotronRecovery.Engine.Tests.Model;

/// <summary>
/// Finds, in compiled IL, every TorchSharp <see cref="Scalar"/> that can be finalized while libtorch still reads it.
/// <para>
/// A <see cref="Scalar"/> has a finalizer and libtorch receives only its native handle, so a Scalar that nothing
/// references after the call started (a number converted implicitly, <c>x.ToScalar()</c> passed straight on) may be
/// freed mid-call: "Expected false to be true … toFloat", an abort inside a backward function (docs/engine.md). A
/// creation — a call returning a Scalar — is safe only when its result is stored in a field (a process-lifetime
/// constant, <c>Model/Scalars.cs</c>), returned, or stored in a local that the same method later disposes or passes to
/// <see cref="GC.KeepAlive"/> (<c>using var s = value.ToScalar();</c>). Library methods are judged by the same rule,
/// transitively (a delegate to an unsafe method counts as a call): <c>Tensor.add(Tensor)</c> is <c>add(other, 1)</c>, a
/// temporary alpha, and so are <c>a + b</c> and <c>square()</c>. Modules and optimizers are reached through virtual
/// calls (<c>module.call(x)</c> → <c>forward</c>, <c>optimizer.step()</c>): every module or optimizer the target
/// constructs is checked for inherited library overrides that are unsafe (TorchSharp's <c>BatchNorm.forward</c>,
/// <c>Adam.step</c>).
/// </para>
/// </summary>
internal static class ScalarLifetimeAnalyzer
{
    /// <summary>One unsafe site: where (file:line of the source, or the method) and what.</summary>
    public sealed record Finding(string Location, string Method, string What)
    {
        public override string ToString() => $"{Location}: {What} (in {Method})";
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
        BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>
    /// Every unsafe site in <paramref name="target"/>: Scalars it creates without keeping them alive, and calls into
    /// the library assemblies (TorchSharp and its companions) that do so themselves.
    /// </summary>
    public static IReadOnlyList<Finding> Analyze(Assembly target, IEnumerable<Assembly> libraries)
    {
        var unsafeLibraryMethods = UnsafeMethods(libraries.ToArray());
        using var pdb = OpenPdb(target);
        var findings = new List<Finding>();
        foreach (var method in MethodsOf(target))
        {
            var il = Decode(method);
            if (il is null) continue;
            foreach (var (offset, what) in UnsafeSites(method, il, unsafeLibraryMethods))
                findings.Add(new Finding(Locate(pdb?.GetMetadataReader(), method, offset), Describe(method), what));
            foreach (var (offset, what) in UnsafeConstructions(method, il, unsafeLibraryMethods))
                findings.Add(new Finding(Locate(pdb?.GetMetadataReader(), method, offset), Describe(method), what));
        }

        return findings.OrderBy(f => f.Location, StringComparer.Ordinal).ToList();
    }

    /// <summary>Library methods that create a Scalar they do not keep alive, directly or through another such method.</summary>
    public static Dictionary<MethodKey, string> UnsafeMethods(IReadOnlyList<Assembly> libraries)
    {
        var bodies = new Dictionary<MethodKey, (MethodBase Method, List<Instruction> Il)>();
        foreach (var method in libraries.SelectMany(MethodsOf))
        {
            var il = Decode(method);
            if (il is not null) bodies[MethodKey.Of(method)] = (method, il);
        }

        var result = new Dictionary<MethodKey, string>();
        foreach (var (key, (method, il)) in bodies)
        {
            var site = TemporaryScalars(method, il).FirstOrDefault();
            if (site.What is not null) result[key] = site.What;
        }

        // Callers of unsafe methods are unsafe, to a fixed point.
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var (key, (method, il)) in bodies)
            {
                if (result.ContainsKey(key)) continue;
                foreach (var ins in il)
                {
                    if (Callee(method, ins, delegates: true) is not { } callee) continue;
                    if (result.ContainsKey(MethodKey.Of(callee)))
                    {
                        result[key] = "calls " + Describe(callee);
                        changed = true;
                        break;
                    }
                }
            }
        }

        return result;
    }

    private static IEnumerable<(int Offset, string What)> UnsafeSites(MethodBase method, List<Instruction> il,
        Dictionary<MethodKey, string> unsafeLibraryMethods)
    {
        foreach (var site in TemporaryScalars(method, il)) yield return site;
        foreach (var ins in il)
        {
            if (Callee(method, ins) is not { } callee) continue;
            if (unsafeLibraryMethods.TryGetValue(MethodKey.Of(callee), out var why))
                yield return (ins.Offset, $"{Describe(callee)} makes a temporary Scalar ({why})");
        }
    }

    /// <summary>
    /// Modules and optimizers constructed here (<c>new T(…)</c> or a library factory returning one) whose library
    /// overrides make temporary Scalars: their <c>forward</c> or <c>step</c> is reached only through a virtual call.
    /// </summary>
    private static IEnumerable<(int Offset, string What)> UnsafeConstructions(MethodBase method, List<Instruction> il,
        Dictionary<MethodKey, string> unsafeLibraryMethods)
    {
        foreach (var ins in il)
        {
            if (Callee(method, ins) is not { } callee) continue;
            if (callee is ConstructorInfo && ins.OpCode != OpCodes.Newobj) continue; // a base constructor call: not this type
            var type = callee is ConstructorInfo ? callee.DeclaringType : (callee as MethodInfo)?.ReturnType;
            if (type is null || !(typeof(torch.nn.Module).IsAssignableFrom(type) || typeof(torch.optim.Optimizer).IsAssignableFrom(type)))
                continue;
            if (callee is not ConstructorInfo && !IsLibrary(callee)) continue;
            foreach (var m in type.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (m.IsVirtual && unsafeLibraryMethods.TryGetValue(MethodKey.Of(m), out var why))
                    yield return (ins.Offset, $"{type.Name} (constructed here) inherits {Describe(m)}, which makes a temporary Scalar ({why})");
            }
        }
    }

    private static bool IsLibrary(MethodBase m) =>
        m.Module.Assembly.GetName().Name?.StartsWith("TorchSharp", StringComparison.Ordinal) == true;

    /// <summary>Calls that return a Scalar whose result is neither stored in a field, returned, nor held by a disposed local.</summary>
    private static IEnumerable<(int Offset, string What)> TemporaryScalars(MethodBase method, List<Instruction> il)
    {
        for (var i = 0; i < il.Count; i++)
        {
            if (Callee(method, il[i]) is not { } callee || !ReturnsScalar(callee)) continue;
            var next = i + 1 < il.Count ? il[i + 1] : null;
            if (next is null) continue;
            if (next.OpCode == OpCodes.Stsfld || next.OpCode == OpCodes.Stfld || next.OpCode == OpCodes.Ret) continue;
            if (StoredLocal(next) is { } local && KeptAlive(method, il, local)) continue;
            yield return (il[i].Offset, $"temporary Scalar from {Describe(callee)}");
        }
    }

    private static bool ReturnsScalar(MethodBase m) =>
        m is ConstructorInfo c ? c.DeclaringType == typeof(Scalar) : ((MethodInfo)m).ReturnType == typeof(Scalar);

    /// <summary>True when some <c>ldloc local</c> is directly followed by a Dispose call or by GC.KeepAlive.</summary>
    private static bool KeptAlive(MethodBase method, List<Instruction> il, int local)
    {
        for (var i = 0; i + 1 < il.Count; i++)
        {
            if (LoadedLocal(il[i]) != local) continue;
            if (Callee(method, il[i + 1]) is { } m &&
                (m.Name == "Dispose" || (m.DeclaringType == typeof(GC) && m.Name == nameof(GC.KeepAlive))))
                return true;
        }

        return false;
    }

    private static int? StoredLocal(Instruction i) => i.OpCode.Value switch
    {
        0x0A => 0, 0x0B => 1, 0x0C => 2, 0x0D => 3, // stloc.0..3
        0x13 => (int)i.Operand, // stloc.s
        unchecked((short)0xFE0E) => (int)i.Operand, // stloc
        _ => null,
    };

    private static int? LoadedLocal(Instruction i) => i.OpCode.Value switch
    {
        0x06 => 0, 0x07 => 1, 0x08 => 2, 0x09 => 3, // ldloc.0..3
        0x11 => (int)i.Operand, // ldloc.s
        unchecked((short)0xFE0C) => (int)i.Operand, // ldloc
        _ => null,
    };

    private static MethodBase? Callee(MethodBase method, Instruction i, bool delegates = false)
    {
        bool call = i.OpCode == OpCodes.Call || i.OpCode == OpCodes.Callvirt || i.OpCode == OpCodes.Newobj;
        bool pointer = delegates && (i.OpCode == OpCodes.Ldftn || i.OpCode == OpCodes.Ldvirtftn);
        if (!call && !pointer) return null;
        try
        {
            var typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
            var methodArgs = method is MethodInfo { IsGenericMethod: true } mi ? mi.GetGenericArguments() : null;
            return method.Module.ResolveMethod((int)i.Operand, typeArgs, methodArgs);
        }
        catch (Exception e) when (e is ArgumentException or TypeLoadException or FileNotFoundException or BadImageFormatException)
        {
            return null; // a method in an assembly that is not here: not one of ours or TorchSharp's
        }
    }

    internal sealed record Instruction(int Offset, OpCode OpCode, long Operand);

    /// <summary>Method identity independent of generic instantiation: module and metadata token of the definition.</summary>
    public readonly record struct MethodKey(Guid Module, int Token)
    {
        public static MethodKey Of(MethodBase m) => new(m.Module.ModuleVersionId, m.MetadataToken);
    }

    private static IEnumerable<MethodBase> MethodsOf(Assembly assembly)
    {
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types.Where(t => t is not null).ToArray()!;
        }

        foreach (var type in types)
        {
            foreach (var m in type.GetMethods(All)) yield return m;
            foreach (var c in type.GetConstructors(All)) yield return c;
        }
    }

    private static List<Instruction>? Decode(MethodBase method)
    {
        byte[]? bytes;
        try
        {
            bytes = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is InvalidOperationException or BadImageFormatException)
        {
            return null;
        }

        if (bytes is null) return null;
        var list = new List<Instruction>();
        for (var pos = 0; pos < bytes.Length;)
        {
            var start = pos;
            short value = bytes[pos++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | bytes[pos++]));
            var op = OpCodesByValue[value];
            long operand = 0;
            switch (op.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    operand = bytes[pos];
                    pos += 1;
                    break;
                case OperandType.InlineVar:
                    operand = BitConverter.ToUInt16(bytes, pos);
                    pos += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    operand = BitConverter.ToInt64(bytes, pos);
                    pos += 8;
                    break;
                case OperandType.InlineSwitch:
                    var n = BitConverter.ToInt32(bytes, pos);
                    pos += 4 + 4 * n;
                    break;
                default:
                    operand = BitConverter.ToInt32(bytes, pos);
                    pos += 4;
                    break;
            }

            list.Add(new Instruction(start, op, operand));
        }

        return list;
    }

    private static MetadataReaderProvider? OpenPdb(Assembly assembly)
    {
        var path = Path.ChangeExtension(assembly.Location, ".pdb");
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        return MetadataReaderProvider.FromPortablePdbImage(System.Collections.Immutable.ImmutableArray.Create(bytes));
    }

    private static string Locate(MetadataReader? pdb, MethodBase method, int offset)
    {
        if (pdb is null) return Describe(method);
        var handle = MetadataTokens.MethodDefinitionHandle(method.MetadataToken).ToDebugInformationHandle();
        SequencePoint? best = null;
        foreach (var sp in pdb.GetMethodDebugInformation(handle).GetSequencePoints())
        {
            if (sp.IsHidden) continue;
            if (sp.Offset > offset) break;
            best = sp;
        }

        if (best is not { } p) return Describe(method);
        var file = pdb.GetString(pdb.GetDocument(p.Document).Name).Replace('\\', '/');
        var src = file.IndexOf("/src/", StringComparison.Ordinal);
        return $"{(src >= 0 ? file[(src + 1)..] : file)}:{p.StartLine}";
    }

    private static string Describe(MethodBase m) => $"{m.DeclaringType?.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";
}
