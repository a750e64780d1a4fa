// The one translation unit that compiles Asio, Asio SSL and Beast.
// Everything else includes them with *_SEPARATE_COMPILATION defined.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
