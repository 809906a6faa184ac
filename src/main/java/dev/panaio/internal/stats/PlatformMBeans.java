package dev.panaio.internal.stats;

import dev.panaio.AioEngineMXBean;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanRegistrationException;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import java.lang.management.ManagementFactory;

/**
 * Registers engines' MXBeans with the platform MBean server as
 * {@code dev.panaio:type=AioEngine,name=<name>}.
 *
 * <p>Thread-safe.
 */
public final class PlatformMBeans {
    private PlatformMBeans() {
    }

    /** The ObjectName of the engine named {@code name}, quoted when the name needs it. */
    public static ObjectName engineName(String name) {
        try {
            // A string, not a key table: the name keeps the key order people type and search for.
            return ObjectName.getInstance("dev.panaio:type=AioEngine,name="
                    + (needsQuoting(name) ? ObjectName.quote(name) : name));
        } catch (JMException e) {
            throw new IllegalArgumentException("not usable as an AioEngine name in JMX: " + name, e);
        }
    }

    private static boolean needsQuoting(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (",=:\"*?\\\n".indexOf(name.charAt(i)) >= 0) {
                return true;
            }
        }
        return name.isEmpty();
    }

    /**
     * Registers {@code bean} as an MXBean under {@code name}.
     *
     * @throws IllegalArgumentException if an open engine has that name already
     */
    public static void register(ObjectName name, AioEngineMXBean bean) {
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(
                    new StandardMBean(bean, AioEngineMXBean.class, true), name);
        } catch (InstanceAlreadyExistsException e) {
            throw new IllegalArgumentException("an open AioEngine is registered in JMX as " + name
                    + " already: give each engine its own name (AioEngine.builder().name(...))", e);
        } catch (JMException e) {
            throw new IllegalStateException("cannot register " + name + " with the platform MBean server", e);
        }
    }

    /** Unregisters {@code name}; a no-op if it is not registered. */
    public static void unregister(ObjectName name) {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // never registered (the shared engine's registration may have failed), or already gone
        } catch (MBeanRegistrationException e) {
            throw new IllegalStateException("cannot unregister " + name, e);
        }
    }
}
