/// libFuzzer's entry point (linked only by `scripts/fuzz.sh`): the input goes to the target
/// `SIDECAR_FUZZ_TARGET` names.
@_cdecl("LLVMFuzzerTestOneInput")
public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
