import SidecarMail
import SidecarProtocol
import Testing

/// `send --header Name:Value`: the value keeps no blanks around it, as before it moved into Mail.
@Suite struct HeaderListFieldCommandLineTests {
    @Test func aHeaderFromTheCommandLineIsTrimmedOfTheBlanksAroundItsValue() {
        #expect(HeaderList.Field(nameColonValue: "X-Workflow: \tdigest ") == HeaderList.Field(name: "X-Workflow", value: "digest"))
        #expect(HeaderList.Field(nameColonValue: "X-Empty:") == HeaderList.Field(name: "X-Empty", value: ""))
        #expect(HeaderList.Field(nameColonValue: "no colon") == nil)
    }
}
