import Hummingbird
import Crypto
import Prometheus
