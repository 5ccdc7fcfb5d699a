/// libFuzzer's entry point (linked only by `scripts/fuzz.sh`).
@_cdecl("LLVMFuzzerTestOneInput")
public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FrameFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
