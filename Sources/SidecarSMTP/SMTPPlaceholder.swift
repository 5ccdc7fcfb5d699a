import NIOCore
import NIOPosix
import NIOSSL
import Logging
import SidecarCore
import SidecarMessage
