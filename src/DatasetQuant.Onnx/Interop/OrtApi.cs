using System.Runtime.InteropServices;
using I = DatasetQuant.Onnx.Interop.OrtApiIndex;

namespace DatasetQuant.Onnx.Interop;

/// <summary>
/// Raw calls through the <c>OrtApi</c> table, with the C names and C argument types (<c>nint</c> for pointers,
/// <c>nuint</c> for size_t). Functions that return <c>OrtStatus*</c> return it unchanged; <see cref="OrtStatus"/>
/// turns a non-null status into an exception.
/// </summary>
internal static unsafe class OrtApi
{
    private static nint* s_table;
    private static string? s_version;

    public static string Version
    {
        get
        {
            _ = Table;
            return s_version!;
        }
    }

    private static nint* Table => s_table != null ? s_table : Initialize();

    private static nint* Initialize()
    {
        // OrtApiBase = { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
        var apiBase = (nint*)OrtNative.OrtGetApiBase();
        var getApi = (delegate* unmanaged<uint, nint*>)apiBase[0];
        var getVersion = (delegate* unmanaged<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersion()) ?? "unknown";
        var table = getApi(I.ApiVersion);
        if (table == null)
        {
            throw new OnnxRuntimeException(
                $"ONNX Runtime {version} does not offer C API version {I.ApiVersion}; DatasetQuant needs a 1.{I.ApiVersion}.x build or newer.");
        }

        s_version = version;
        s_table = table;
        return table;
    }

    public static nint GetErrorCode(nint status) => ((delegate* unmanaged<nint, int>)Table[I.GetErrorCode])(status);

    public static nint GetErrorMessage(nint status) => ((delegate* unmanaged<nint, nint>)Table[I.GetErrorMessage])(status);

    public static void ReleaseStatus(nint status) => ((delegate* unmanaged<nint, void>)Table[I.ReleaseStatus])(status);

    public static nint CreateEnv(int logLevel, byte* logId, nint* env) =>
        ((delegate* unmanaged<int, byte*, nint*, nint>)Table[I.CreateEnv])(logLevel, logId, env);

    public static void ReleaseEnv(nint env) => ((delegate* unmanaged<nint, void>)Table[I.ReleaseEnv])(env);

    public static nint CreateSessionOptions(nint* options) =>
        ((delegate* unmanaged<nint*, nint>)Table[I.CreateSessionOptions])(options);

    public static void ReleaseSessionOptions(nint options) =>
        ((delegate* unmanaged<nint, void>)Table[I.ReleaseSessionOptions])(options);

    public static nint SetSessionExecutionMode(nint options, int mode) =>
        ((delegate* unmanaged<nint, int, nint>)Table[I.SetSessionExecutionMode])(options, mode);

    public static nint SetMemPattern(nint options, bool enable) =>
        ((delegate* unmanaged<nint, nint>)Table[enable ? I.EnableMemPattern : I.DisableMemPattern])(options);

    public static nint SetCpuMemArena(nint options, bool enable) =>
        ((delegate* unmanaged<nint, nint>)Table[enable ? I.EnableCpuMemArena : I.DisableCpuMemArena])(options);

    public static nint SetSessionLogSeverityLevel(nint options, int level) =>
        ((delegate* unmanaged<nint, int, nint>)Table[I.SetSessionLogSeverityLevel])(options, level);

    public static nint SetSessionGraphOptimizationLevel(nint options, int level) =>
        ((delegate* unmanaged<nint, int, nint>)Table[I.SetSessionGraphOptimizationLevel])(options, level);

    public static nint SetIntraOpNumThreads(nint options, int threads) =>
        ((delegate* unmanaged<nint, int, nint>)Table[I.SetIntraOpNumThreads])(options, threads);

    public static nint SetInterOpNumThreads(nint options, int threads) =>
        ((delegate* unmanaged<nint, int, nint>)Table[I.SetInterOpNumThreads])(options, threads);

    public static nint AddSessionConfigEntry(nint options, byte* key, byte* value) =>
        ((delegate* unmanaged<nint, byte*, byte*, nint>)Table[I.AddSessionConfigEntry])(options, key, value);

    public static nint CreateSession(nint env, byte* path, nint options, nint* session) =>
        ((delegate* unmanaged<nint, byte*, nint, nint*, nint>)Table[I.CreateSession])(env, path, options, session);

    public static nint CreateSessionFromArray(nint env, void* data, nuint length, nint options, nint* session) =>
        ((delegate* unmanaged<nint, void*, nuint, nint, nint*, nint>)Table[I.CreateSessionFromArray])(env, data, length, options, session);

    public static void ReleaseSession(nint session) => ((delegate* unmanaged<nint, void>)Table[I.ReleaseSession])(session);

    public static nint Run(nint session, nint runOptions, nint* inputNames, nint* inputs, nuint inputCount,
        nint* outputNames, nuint outputCount, nint* outputs) =>
        ((delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)Table[I.Run])(
            session, runOptions, inputNames, inputs, inputCount, outputNames, outputCount, outputs);

    public static nint SessionGetInputCount(nint session, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Table[I.SessionGetInputCount])(session, count);

    public static nint SessionGetOutputCount(nint session, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Table[I.SessionGetOutputCount])(session, count);

    public static nint SessionGetInputName(nint session, nuint index, nint allocator, nint* name) =>
        ((delegate* unmanaged<nint, nuint, nint, nint*, nint>)Table[I.SessionGetInputName])(session, index, allocator, name);

    public static nint SessionGetOutputName(nint session, nuint index, nint allocator, nint* name) =>
        ((delegate* unmanaged<nint, nuint, nint, nint*, nint>)Table[I.SessionGetOutputName])(session, index, allocator, name);

    public static nint SessionGetInputTypeInfo(nint session, nuint index, nint* typeInfo) =>
        ((delegate* unmanaged<nint, nuint, nint*, nint>)Table[I.SessionGetInputTypeInfo])(session, index, typeInfo);

    public static nint SessionGetOutputTypeInfo(nint session, nuint index, nint* typeInfo) =>
        ((delegate* unmanaged<nint, nuint, nint*, nint>)Table[I.SessionGetOutputTypeInfo])(session, index, typeInfo);

    public static nint GetOnnxTypeFromTypeInfo(nint typeInfo, int* onnxType) =>
        ((delegate* unmanaged<nint, int*, nint>)Table[I.GetOnnxTypeFromTypeInfo])(typeInfo, onnxType);

    public static nint CastTypeInfoToTensorInfo(nint typeInfo, nint* tensorInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Table[I.CastTypeInfoToTensorInfo])(typeInfo, tensorInfo);

    public static void ReleaseTypeInfo(nint typeInfo) => ((delegate* unmanaged<nint, void>)Table[I.ReleaseTypeInfo])(typeInfo);

    public static nint GetTensorElementType(nint tensorInfo, int* type) =>
        ((delegate* unmanaged<nint, int*, nint>)Table[I.GetTensorElementType])(tensorInfo, type);

    public static nint GetDimensionsCount(nint tensorInfo, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Table[I.GetDimensionsCount])(tensorInfo, count);

    public static nint GetDimensions(nint tensorInfo, long* dims, nuint count) =>
        ((delegate* unmanaged<nint, long*, nuint, nint>)Table[I.GetDimensions])(tensorInfo, dims, count);

    public static nint GetTensorShapeElementCount(nint tensorInfo, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Table[I.GetTensorShapeElementCount])(tensorInfo, count);

    public static nint GetTensorTypeAndShape(nint value, nint* tensorInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Table[I.GetTensorTypeAndShape])(value, tensorInfo);

    public static void ReleaseTensorTypeAndShapeInfo(nint tensorInfo) =>
        ((delegate* unmanaged<nint, void>)Table[I.ReleaseTensorTypeAndShapeInfo])(tensorInfo);

    public static nint GetValueType(nint value, int* onnxType) =>
        ((delegate* unmanaged<nint, int*, nint>)Table[I.GetValueType])(value, onnxType);

    public static nint IsTensor(nint value, int* isTensor) =>
        ((delegate* unmanaged<nint, int*, nint>)Table[I.IsTensor])(value, isTensor);

    public static nint CreateCpuMemoryInfo(int allocatorType, int memType, nint* memoryInfo) =>
        ((delegate* unmanaged<int, int, nint*, nint>)Table[I.CreateCpuMemoryInfo])(allocatorType, memType, memoryInfo);

    public static void ReleaseMemoryInfo(nint memoryInfo) => ((delegate* unmanaged<nint, void>)Table[I.ReleaseMemoryInfo])(memoryInfo);

    public static nint GetAllocatorWithDefaultOptions(nint* allocator) =>
        ((delegate* unmanaged<nint*, nint>)Table[I.GetAllocatorWithDefaultOptions])(allocator);

    public static nint AllocatorFree(nint allocator, nint pointer) =>
        ((delegate* unmanaged<nint, nint, nint>)Table[I.AllocatorFree])(allocator, pointer);

    public static nint CreateTensorWithDataAsOrtValue(nint memoryInfo, void* data, nuint byteLength, long* shape,
        nuint shapeLength, int elementType, nint* value) =>
        ((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)Table[I.CreateTensorWithDataAsOrtValue])(
            memoryInfo, data, byteLength, shape, shapeLength, elementType, value);

    public static nint CreateTensorAsOrtValue(nint allocator, long* shape, nuint shapeLength, int elementType, nint* value) =>
        ((delegate* unmanaged<nint, long*, nuint, int, nint*, nint>)Table[I.CreateTensorAsOrtValue])(
            allocator, shape, shapeLength, elementType, value);

    public static nint GetTensorMutableData(nint value, void** data) =>
        ((delegate* unmanaged<nint, void**, nint>)Table[I.GetTensorMutableData])(value, data);

    public static nint FillStringTensor(nint value, nint* strings, nuint count) =>
        ((delegate* unmanaged<nint, nint*, nuint, nint>)Table[I.FillStringTensor])(value, strings, count);

    public static nint GetStringTensorDataLength(nint value, nuint* length) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Table[I.GetStringTensorDataLength])(value, length);

    public static nint GetStringTensorContent(nint value, void* buffer, nuint bufferLength, nuint* offsets, nuint offsetCount) =>
        ((delegate* unmanaged<nint, void*, nuint, nuint*, nuint, nint>)Table[I.GetStringTensorContent])(
            value, buffer, bufferLength, offsets, offsetCount);

    public static nint CreateValue(nint* values, nuint count, int onnxType, nint* value) =>
        ((delegate* unmanaged<nint*, nuint, int, nint*, nint>)Table[I.CreateValue])(values, count, onnxType, value);

    public static nint GetValueCount(nint value, nuint* count) =>
        ((delegate* unmanaged<nint, nuint*, nint>)Table[I.GetValueCount])(value, count);

    public static nint GetValue(nint value, int index, nint allocator, nint* element) =>
        ((delegate* unmanaged<nint, int, nint, nint*, nint>)Table[I.GetValue])(value, index, allocator, element);

    public static nint HasValue(nint value, int* hasValue) =>
        ((delegate* unmanaged<nint, int*, nint>)Table[I.HasValue])(value, hasValue);

    public static nint CastTypeInfoToSequenceTypeInfo(nint typeInfo, nint* sequenceInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Table[I.CastTypeInfoToSequenceTypeInfo])(typeInfo, sequenceInfo);

    public static nint GetSequenceElementType(nint sequenceInfo, nint* elementTypeInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Table[I.GetSequenceElementType])(sequenceInfo, elementTypeInfo);

    public static nint CastTypeInfoToOptionalTypeInfo(nint typeInfo, nint* optionalInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Table[I.CastTypeInfoToOptionalTypeInfo])(typeInfo, optionalInfo);

    public static nint GetOptionalContainedTypeInfo(nint optionalInfo, nint* containedTypeInfo) =>
        ((delegate* unmanaged<nint, nint*, nint>)Table[I.GetOptionalContainedTypeInfo])(optionalInfo, containedTypeInfo);

    public static void ReleaseValue(nint value) => ((delegate* unmanaged<nint, void>)Table[I.ReleaseValue])(value);

    public static nint GetAvailableProviders(nint** providers, int* count) =>
        ((delegate* unmanaged<nint**, int*, nint>)Table[I.GetAvailableProviders])(providers, count);

    public static nint ReleaseAvailableProviders(nint* providers, int count) =>
        ((delegate* unmanaged<nint*, int, nint>)Table[I.ReleaseAvailableProviders])(providers, count);
}
