//! Reads the kernel: tunnel links, XFRM SAs and policies, /proc/net/xfrm_stat.
//! The only module that talks netlink.
